"""A score env as a SkyRL text env (``pip install 'score-env[skyrl]'``): skyrl-gym's ``BaseTextEnv``.

SkyRL reads prompts from a dataset whose rows name an ``env_class``; its generator then calls
``skyrl_gym.make(env_class, env_config=..., extras=<the row's other columns>)``, ``init(prompt)`` and ``step(text)``
until ``done``. So a score env needs a registration (which env, split and attempts) and dataset rows (which
problem)::

    register_skyrl_env("score_math", env="math", split="train")   # in your SkyRL entrypoint, before training
    rows = skyrl_dataset("score_math")                              # -> Dataset.from_list(rows).to_parquet(...)

``register_skyrl_env(..., stop="model_decides")`` plays verify-then-revise: a self-verdict turn after each attempt
but the last, rewarded for judging the attempt rightly, ending the episode when it says "correct".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput
from skyrl_gym.envs.registration import register

from score_env.adapters.episode import ChatMessage, EnvChoice, EpisodeSession, problem_prompts
from score_env.env import Stop


class ScoreSkyRLEnv(BaseTextEnv):
    """A score env through SkyRL's text-env interface.

    ``init(prompt)`` starts the episode on the problem named by the row's ``extra_info.index`` and returns the
    prompt (which must be that problem's first prompt: a row built for another env or split fails loudly).
    ``step(response)`` grades the attempt and returns only the new messages: ``[{"role": "user", "content":
    <correction instruction>}]`` after an attempt that is not the last (the same whether it was right or wrong),
    ``[]`` with ``done=True`` after the last. With ``stop="model_decides"`` every attempt but the last is followed by
    the verification instruction and the model's verdict, its own step. ``reward`` is the turn's own binary reward
    (an attempt's for being right, a verdict's for judging its attempt rightly), so SkyRL places one reward at the end
    of each turn (turn-level rewards) and an episode's return is their sum: never the last attempt's alone.
    ``metadata`` carries the grade and ``turn`` (``attempt`` or ``verdict``). ``get_metrics()`` returns the
    episode's SCoRe metrics (``acc@t1``, ``acc@t2``, ``delta``, ...) and its rewards by name (``attempt_1``,
    ``attempt_2``, ``verdicts``), whose means, SkyRL's default aggregation, are the paper's numbers and the mean reward
    of each attempt and of the verdicts. An attempt graded ``error`` raises
    :class:`~score_env.adapters.episode.GradingError` from ``step``, which fails the rollout (SkyRL's generator does
    not catch it).
    """

    def __init__(
        self,
        env_config: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
        *,
        env: str,
        split: str,
        max_attempts: int = 2,
        env_kwargs: Mapping[str, Any] | None = None,
        stop: Stop = "fixed",
    ):
        super().__init__()
        if env_config:  # SkyRL's `environment.skyrl_gym.<env_class>` section
            raise ValueError(
                f"configure a score env through register_skyrl_env(), not SkyRL's env config; got {dict(env_config)}"
            )
        extra_info = (extras or {}).get("extra_info") or {}
        if "index" not in extra_info:
            raise ValueError(
                f"the dataset row must carry extra_info.index (the problem); got extras {extras!r}. Build the "
                "rows with score_env.adapters.skyrl_env.skyrl_dataset()."
            )
        self.index = int(extra_info["index"])
        self.session = EpisodeSession(EnvChoice(env, split, max_attempts, dict(env_kwargs or {}), stop))
        self.max_turns = self.session.choice.max_turns  # BaseTextEnv's; SkyRL's generator.max_turns does not shorten it

    def init(self, prompt: list[ChatMessage]) -> tuple[list[ChatMessage], dict[str, Any]]:
        first = list(self.session.reset(index=self.index))
        self.turns = 0
        if [dict(m) for m in prompt] != first:
            raise ValueError(
                f"the dataset's prompt for problem {self.index} is not the first prompt of "
                f"{self.session.choice.env} ({self.session.choice.split}): rebuild the rows with skyrl_dataset()"
            )
        return first, {"problem_id": self.session.problem_id}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        result = self.session.step(action)
        self.turns += 1
        return BaseTextEnvStepOutput(
            observations=list(result.new_messages), reward=result.reward, done=result.done, metadata=result.info()
        )

    def get_metrics(self) -> dict[str, Any]:
        return self.session.metrics()

    def close(self) -> None:
        self.session.close()


_CHOICES: dict[str, EnvChoice] = {}


def register_skyrl_env(
    env_class: str,
    env: str,
    split: str,
    max_attempts: int = 2,
    env_kwargs: Mapping[str, Any] | None = None,
    stop: Stop = "fixed",
) -> EnvChoice:
    """Register a score env with skyrl-gym as ``env_class`` (the name a dataset row's ``env_class`` gives).

    SkyRL's generator runs in Ray workers: call this inside your entrypoint task, as SkyRL's own examples register
    their envs. Registering the same ``env_class`` again with the same arguments is a no-op.
    """
    choice = EnvChoice(env, split, max_attempts, dict(env_kwargs or {}), stop)
    choice.spec()  # an unknown env, split or stop fails here, not in a worker
    if env_class in _CHOICES and _CHOICES[env_class] == choice:
        return choice
    register(env_class, "score_env.adapters.skyrl_env:ScoreSkyRLEnv", kwargs=asdict(choice))
    _CHOICES[env_class] = choice
    return choice


def skyrl_dataset(env_class: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The dataset rows of a registered ``env_class``: ``prompt``, ``env_class`` and ``extra_info`` (index and
    problem id), the columns SkyRL's ``PromptDataset`` reads. ``limit``: only the first problems."""
    if env_class not in _CHOICES:
        raise ValueError(f"{env_class!r} is not registered; call register_skyrl_env({env_class!r}, env=...) first")
    prompts = problem_prompts(_CHOICES[env_class])
    return [
        {"prompt": list(p.prompt), "env_class": env_class, "extra_info": {"index": p.index, "problem_id": p.problem_id}}
        for p in prompts[:limit]
    ]
