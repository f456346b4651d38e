"""Every score env as a GEM env (``pip install 'score-env[gem]'``): ``gem.make("score:MATH-v0", split="train")``.

Importing this module registers every score env registered so far with GEM (``score/MATH-v0`` becomes
``score:MATH-v0``, GEM's ``namespace:Name`` style); a task registered later is added with
:func:`register_gem_env`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gem
from gem.envs.registration import ENV_REGISTRY
from gem.utils.constants import TERMINAL_STATE

from score_env.adapters.episode import ChatMessage, EnvChoice, EpisodeSession
from score_env.env import Stop
from score_env.registry import registered_tasks, resolve_env

GEM_NAMESPACE = "score:"


class ScoreGemEnv(gem.Env):
    """A score env through GEM's interface: string observations, the Gymnasium 5-tuple.

    ## Description
    The core two-attempt env (:class:`~score_env.env.SelfCorrectionEnv`, intrinsic feedback) behind ``gem.Env``.
    GEM observations are the new text of each turn; its wrappers (``ObservationWrapper``) rebuild the conversation.

    ## Action Space
    The model's response, a ``str``.

    ## Observation Space
    ``str``. After ``reset``: the first prompt (its messages' contents joined by a blank line when a task has a
    system message). After an attempt that is not the last: the task's correction instruction, the same text
    whether the attempt was right or wrong. With ``stop="model_decides"`` (verify-then-revise), the verification
    instruction after an attempt that is not the last, and the correction instruction after a verdict "wrong". After
    the last turn: GEM's ``TERMINAL_STATE``.

    ## Rewards
    Each step's own binary reward: an attempt's (1.0 correct, else 0.0), a self-verdict's (1.0 when it judged its
    attempt rightly). An episode's return is their sum, never the last attempt's alone; ``info["metrics"]`` names them.

    ## Episode End
    ``terminated=True`` after attempt ``max_attempts``; earlier only with ``stop="model_decides"``, when the model's
    own verdict says "correct". ``truncated`` is always False.

    ## Info
    The grade (``correct``, ``reason``, ``extracted``, ``detail``), ``turn`` (``attempt`` or ``verdict``),
    ``attempt`` and ``problem_id``; on the last step also ``metrics``: the episode's SCoRe metrics (``acc@t1``,
    ``acc@t2``, ``delta``, ...; their means over episodes are the paper's numbers) and its rewards by name
    (``attempt_1``, ``attempt_2``, ``verdicts``; they add up to the return). Never ``prefix`` or ``suffix``, which
    GEM's ``ObservationWrapper`` would paste into the model's input.

    ## Errors
    An attempt graded ``error`` raises :class:`~score_env.adapters.episode.GradingError` from ``step``: GEM's vector
    envs and trainers propagate it as a failed rollout.

    ## Arguments
    ``env`` (id or short name), ``split``, ``max_attempts``, ``env_kwargs`` (the task's arguments), ``stop``
    (``fixed`` or ``model_decides``), ``seed`` (the problem draws of ``reset()`` without a seed; ``gem.make_vec``
    sets it per env). ``reset(seed, idx)``: ``idx`` picks a problem, as GEM's ``MathEnv`` does.
    """

    def __init__(
        self,
        env: str,
        split: str = "train",
        max_attempts: int = 2,
        env_kwargs: Mapping[str, Any] | None = None,
        seed: int = 0,
        stop: Stop = "fixed",
    ):
        super().__init__()
        self.session = EpisodeSession(EnvChoice(env, split, max_attempts, dict(env_kwargs or {}), stop))
        self.seed = seed
        self._seeded = False

    def reset(self, seed: int | None = None, idx: int | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed)  # GEM's contract: a seed also seeds Python's and NumPy's global generators
        if seed is None and not self._seeded:
            seed = self.seed  # the first draw comes from the constructor's seed, later ones continue its stream
        self._seeded = True
        messages = self.session.reset(index=idx, seed=seed)
        return _text(messages), {"problem_id": self.session.problem_id, "attempt": 0}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        result = self.session.step(action)
        info = result.info()
        if result.done:
            info["metrics"] = self.session.metrics()
        observation = TERMINAL_STATE if result.done else _text(result.new_messages)
        return observation, result.reward, result.done, False, info

    def sample_random_action(self) -> str:
        return self.session.env.action_space.sample()

    def close(self) -> None:
        self.session.close()


def register_gem_env(env: str) -> str:
    """Register the score env ``env`` (id or short name) with GEM; returns its GEM id. Registering twice is a no-op."""
    env_id = resolve_env(env).env_id
    gem_id = GEM_NAMESPACE + env_id.removeprefix("score/")
    if gem_id not in ENV_REGISTRY:
        gem.register(gem_id, "score_env.adapters.gem_env:ScoreGemEnv", env=env_id)
    return gem_id


def register_gem_envs() -> list[str]:
    """Register every score env registered so far; returns their GEM ids."""
    return [register_gem_env(spec.env_id) for spec in registered_tasks()]


def _text(messages: tuple[ChatMessage, ...]) -> str:
    return "\n\n".join(m["content"] for m in messages)


register_gem_envs()
