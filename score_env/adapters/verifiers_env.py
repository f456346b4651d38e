"""A score env as a verifiers ``MultiTurnEnv`` (``pip install 'score-env[verifiers]'``, verifiers 0.2.1-0.3.x).

verifiers loads an environment by module name and calls its ``load_environment(**args)``::

    env = vf.load_environment("score_env.adapters.verifiers_env", env="math", split="train")

so prime-rl (``[[orchestrator.env]] id = "score_env.adapters.verifiers_env"``) and ``vf-eval`` take it as it is.
verifiers 0.4 replaced ``MultiTurnEnv`` with its v1 stack and is not supported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import verifiers as vf
from datasets import Dataset

from score_env.adapters.episode import EnvChoice, EpisodeSession, GradingError, episode_metrics, problem_prompts
from score_env.records import Grade

_MESSAGE_TYPES = {"system": vf.SystemMessage, "user": vf.UserMessage, "assistant": vf.AssistantMessage}


class VerifiersGradingError(vf.InfraError):
    """:class:`~score_env.adapters.episode.GradingError` in verifiers' error tree. The rollout loop stores it in
    ``state["error"]`` and stops the rollout (verifiers' failed-rollout flag); as an ``InfraError`` it is retried
    when ``generate(..., max_retries=n)`` asks for retries."""


class ScoreMultiTurnEnv(vf.MultiTurnEnv):
    """A score env through verifiers' ``MultiTurnEnv``.

    The dataset holds each problem's first prompt with ``info = {"index", "problem_id"}``; ``max_turns`` is the
    env's ``max_attempts``. Each model response is graded by the core env as soon as verifiers records it
    (``add_trajectory_step``), so every trajectory step carries its own attempt's reward (``step["reward"]``) and
    grade (``step["extras"]["grade"]``). The environment response is exactly what the core env shows next, the
    task's correction instruction, identical whether the attempt was right or wrong. The rubric
    (:func:`self_correction_rubric`) gives the rollout the last attempt's reward and reports ``acc@t1``,
    ``acc@t2``, ``delta``, ``delta_i_to_c``, ``delta_c_to_i`` and ``grade_error`` as metrics (their means over
    rollouts are the paper's numbers). An attempt graded ``error`` raises :class:`VerifiersGradingError` before it
    is recorded: the rollout stops with ``state["error"]`` set and ``grade_error = 1``, and the failed attempt has
    no trajectory step, so nothing can score it as a wrong answer.
    """

    def __init__(self, choice: EnvChoice, indices: Sequence[int] | None = None, **kwargs: Any):
        self.choice = choice
        rows = [
            {"prompt": list(p.prompt), "info": {"index": p.index, "problem_id": p.problem_id}}
            for p in problem_prompts(choice, indices)
        ]
        self._sessions: dict[str, EpisodeSession] = {}  # trajectory_id -> the core env of that rollout
        super().__init__(
            dataset=Dataset.from_list(rows),
            rubric=self_correction_rubric(choice.max_attempts),
            max_turns=choice.max_attempts,
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
        state["grades"] = []  # the grade of each attempt, as the core env's info reports it
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


def self_correction_rubric(max_attempts: int) -> vf.Rubric:
    """Reward: the last attempt's. Metrics (weight 0): the SCoRe metrics of each rollout and ``grade_error``."""
    rubric = vf.Rubric(funcs=[_named("final_reward", _final_reward)], weights=[1.0])
    names = [f"acc@t{t}" for t in range(1, max_attempts + 1)] + ["delta", "delta_i_to_c", "delta_c_to_i"]
    for name in names:
        rubric.add_metric(_named(name, lambda state, name=name: _metrics(state).get(name, 0.0)))
    rubric.add_metric(_named("grade_error", lambda state: float(isinstance(state.get("error"), VerifiersGradingError))))
    return rubric


def load_environment(
    env: str = "arithmetic",
    split: str = "train",
    max_attempts: int = 2,
    env_kwargs: Mapping[str, Any] | None = None,
    num_problems: int | None = None,
    **kwargs: Any,
) -> ScoreMultiTurnEnv:
    """verifiers' entry point. ``num_problems``: only the first problems of the split; ``kwargs`` go to
    ``MultiTurnEnv`` (``timeout_seconds``, ``sampling_args``, ...)."""
    choice = EnvChoice(env, split, max_attempts, dict(env_kwargs or {}))
    indices = None if num_problems is None else range(num_problems)
    return ScoreMultiTurnEnv(choice, indices, **kwargs)


def _final_reward(state: vf.State) -> float:
    grades = state.get("grades") or []
    return Grade.from_info(grades[-1]).reward if grades and state.get("error") is None else 0.0


def _metrics(state: vf.State) -> dict[str, float]:
    if state.get("error") is not None:
        return {}  # a failed rollout has no SCoRe metrics; grade_error (or verifiers' error) says why
    return episode_metrics([Grade.from_info(g) for g in state.get("grades") or []])


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
