"""A score env as a verifiers ``MultiTurnEnv`` (``pip install 'score-env[verifiers]'``, verifiers 0.2.1-0.3.x).

verifiers loads an environment by module name and calls its ``load_environment(**args)``::

    env = vf.load_environment("score_env.adapters.verifiers_env", env="math", split="train")

so prime-rl (``[[orchestrator.env]] id = "score_env.adapters.verifiers_env"``) and ``vf-eval`` take it as it is.
verifiers 0.4 removed ``MultiTurnEnv`` (its v1 stack only): there the score env is the taskset ``score_env_verifiers``
(:mod:`score_env.adapters.verifiers_v1`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import verifiers as vf
from datasets import Dataset

from score_env.adapters.episode import (
    EnvChoice,
    EpisodeSession,
    GradingError,
    episode_metrics,
    problem_prompts,
    reward_components,
    reward_names,
)
from score_env.env import Stop
from score_env.records import Grade

if not hasattr(vf, "MultiTurnEnv"):
    raise ImportError(
        f"verifiers {vf.__version__} has no MultiTurnEnv (0.4 kept only its v1 stack): this module is for verifiers "
        "0.2.1-0.3.x. With verifiers 0.4 use the taskset score_env_verifiers (score_env.adapters.verifiers_v1)."
    )

_MESSAGE_TYPES = {"system": vf.SystemMessage, "user": vf.UserMessage, "assistant": vf.AssistantMessage}


class VerifiersGradingError(vf.InfraError):
    """:class:`~score_env.adapters.episode.GradingError` in verifiers' error tree. The rollout loop stores it in
    ``state["error"]`` and stops the rollout (verifiers' failed-rollout flag); as an ``InfraError`` it is retried
    when ``generate(..., max_retries=n)`` asks for retries."""


class ScoreMultiTurnEnv(vf.MultiTurnEnv):
    """A score env through verifiers' ``MultiTurnEnv``.

    The dataset holds each problem's first prompt with ``info = {"index", "problem_id"}``; ``max_turns`` is the
    most responses an episode takes (``max_attempts``, and with ``stop="model_decides"`` a self-verdict between two
    attempts). Each model response is graded by the core env as soon as verifiers records it
    (``add_trajectory_step``), so every trajectory step carries its own turn's reward (``step["reward"]``) and
    grade (``step["extras"]["grade"]``, with ``turn``: ``attempt`` or ``verdict``). The environment response is
    exactly what the core env shows next, the task's instruction, identical whether the attempt was right or wrong;
    the rollout ends when the core env's episode does (``episode_over``). The rubric (:func:`self_correction_rubric`)
    gives the rollout the weighted sum of its rewards by name, ``attempt_1`` ... ``attempt_T`` and ``verdicts``
    (weight 1 each by default: the sum of the turns' rewards, never the last attempt's alone), and reports
    ``acc@t1``, ``acc@t2``, ``delta``, ``delta_i_to_c``, ``delta_c_to_i`` and ``grade_error`` as metrics (their means
    over rollouts are the paper's numbers). An attempt graded ``error`` raises :class:`VerifiersGradingError` before
    it is recorded: the rollout stops with ``state["error"]`` set and ``grade_error = 1``, and the failed attempt has
    no trajectory step, so nothing can score it as a wrong answer.
    """

    def __init__(
        self,
        choice: EnvChoice,
        indices: Sequence[int] | None = None,
        reward_weights: Mapping[str, float] | None = None,
        **kwargs: Any,
    ):
        self.choice = choice
        rows = [
            {"prompt": list(p.prompt), "info": {"index": p.index, "problem_id": p.problem_id}}
            for p in problem_prompts(choice, indices)
        ]
        self._sessions: dict[str, EpisodeSession] = {}  # trajectory_id -> the core env of that rollout
        super().__init__(
            dataset=Dataset.from_list(rows),
            rubric=self_correction_rubric(choice.max_attempts, reward_weights),
            max_turns=choice.max_turns,
            **kwargs,
        )

    async def setup_state(self, state: vf.State) -> vf.State:
        session = EpisodeSession(self.choice)
        first = await asyncio.to_thread(session.reset, index=int(state["info"]["index"]))
        if [_as_dict(m) for m in state["prompt"]] != list(first):
            session.close()
            raise ValueError(
                f"the rollout's prompt is not the first prompt of problem {state['info']['index']} of "
                f"{self.choice.env} ({self.choice.split}): use this env's own dataset"
            )
        self._sessions[state["trajectory_id"]] = session
        state["grades"] = []  # the grade of each turn, as the core env's info reports it (with its "turn")
        return state

    async def add_trajectory_step(self, state: vf.State, trajectory_step: Any) -> None:
        session = self._sessions[state["trajectory_id"]]
        try:
            result = await asyncio.to_thread(session.step, _response_text(trajectory_step["completion"]))
        except GradingError as exc:
            raise VerifiersGradingError(str(exc)) from exc
        trajectory_step["reward"] = result.reward
        trajectory_step["extras"]["grade"] = result.info()
        state["grades"].append(result.info())
        await super().add_trajectory_step(state, trajectory_step)

    @vf.stop
    async def episode_over(self, state: vf.State) -> bool:
        """The core env's episode ended: after the last attempt, or a self-verdict that said "correct"."""
        session = self._sessions.get(state["trajectory_id"])  # None once cleaned up
        return session is not None and session.last is not None and session.last.done

    async def env_response(self, messages: vf.Messages, state: vf.State, **kwargs: Any) -> vf.Messages:
        last = self._sessions[state["trajectory_id"]].last
        if last is None:
            raise RuntimeError("env_response before any graded attempt")
        return [_MESSAGE_TYPES[m["role"]](content=m["content"]) for m in last.new_messages]

    @vf.cleanup
    async def close_session(self, state: vf.State) -> None:
        session = self._sessions.pop(state["trajectory_id"], None)
        if session is not None:
            session.close()


def self_correction_rubric(max_attempts: int, reward_weights: Mapping[str, float] | None = None) -> vf.Rubric:
    """Reward: the weighted sum of the rollout's rewards by name (``attempt_1`` ... ``attempt_T``, ``verdicts``: see
    :func:`~score_env.adapters.episode.reward_components`), weight 1 each unless ``reward_weights`` says otherwise
    (``{"attempt_1": 0.0}`` pays the last of two attempts alone, which PAG and AdaPO warn against: see
    :mod:`score_env.adapters.episode`). Metrics (weight 0): the SCoRe metrics and ``grade_error``."""
    names = reward_names(max_attempts)
    unknown = sorted(set(reward_weights or {}) - set(names))
    if unknown:
        raise ValueError(f"reward_weights names {unknown}, not rewards of this env; its rewards: {', '.join(names)}")
    weights = {name: 1.0 for name in names} | dict(reward_weights or {})
    funcs = [_named(name, lambda state, name=name: _components(state, max_attempts)[name]) for name in names]
    rubric = vf.Rubric(funcs=funcs, weights=[float(weights[name]) for name in names])
    metrics = [f"acc@t{t}" for t in range(1, max_attempts + 1)] + ["delta", "delta_i_to_c", "delta_c_to_i"]
    for name in metrics:
        rubric.add_metric(_named(name, lambda state, name=name: _metrics(state, max_attempts).get(name, 0.0)))
    rubric.add_metric(_named("grade_error", lambda state: float(isinstance(state.get("error"), VerifiersGradingError))))
    return rubric


def load_environment(
    env: str = "arithmetic",
    split: str = "train",
    max_attempts: int = 2,
    env_kwargs: Mapping[str, Any] | None = None,
    num_problems: int | None = None,
    stop: Stop = "fixed",
    reward_weights: Mapping[str, float] | None = None,
    **kwargs: Any,
) -> ScoreMultiTurnEnv:
    """verifiers' entry point. ``num_problems``: only the first problems of the split; ``stop``: ``fixed`` or
    ``model_decides`` (verify-then-revise); ``reward_weights``: see :func:`self_correction_rubric`; ``kwargs`` go to
    ``MultiTurnEnv`` (``timeout_seconds``, ``sampling_args``, ...)."""
    choice = EnvChoice(env, split, max_attempts, dict(env_kwargs or {}), stop)
    indices = None if num_problems is None else range(num_problems)
    return ScoreMultiTurnEnv(choice, indices, reward_weights, **kwargs)


def _turn_grades(state: vf.State, turn: str) -> list[Grade]:
    return [Grade.from_info(g) for g in state.get("grades") or [] if g["turn"] == turn]


def _components(state: vf.State, max_attempts: int) -> dict[str, float]:
    if state.get("error") is not None:  # a failed rollout earns nothing; grade_error (or verifiers' error) says why
        return dict.fromkeys(reward_names(max_attempts), 0.0)
    return reward_components(_turn_grades(state, "attempt"), _turn_grades(state, "verdict"), max_attempts)


def _metrics(state: vf.State, max_attempts: int) -> dict[str, float]:
    if state.get("error") is not None:
        return {}  # a failed rollout has no SCoRe metrics; grade_error (or verifiers' error) says why
    return episode_metrics(_turn_grades(state, "attempt"), max_attempts)


def _named(name: str, func: Callable[[vf.State], float]) -> Callable[[vf.State], float]:
    func.__name__ = name  # verifiers names a rubric's metric after its function
    return func


def _as_dict(message: Any) -> dict[str, str]:
    if isinstance(message, Mapping):
        return {"role": message["role"], "content": message["content"]}
    return {"role": message.role, "content": message.content}


def _response_text(completion: vf.Messages) -> str:
    """The text of the model's response: the content of the turn's last assistant message."""
    replies = [m for m in completion if _as_dict(m)["role"] == "assistant"]
    content = _as_dict(replies[-1])["content"] if replies else None
    if not isinstance(content, str):
        raise TypeError(f"expected the model's response as text, got the completion {completion!r}")
    return content
