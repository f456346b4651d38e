"""What every adapter shares: which score env to drive, one episode of it attempt by attempt, and its metrics.

An adapter never grades, prompts or decides when an episode ends by itself: it drives the core
:class:`~score_env.env.SelfCorrectionEnv` (always with ``feedback="intrinsic"``) through :class:`EpisodeSession` and
translates the result into its engine's types. That is how every adapter keeps the two properties of the core:

- **intrinsic**: the messages an adapter shows the model after an attempt are exactly the ones the core env appended
  (the task's correction instruction), so they are identical whether the attempt was right or wrong. Grades go only
  to the engine's reward and diagnostics channels, never into the model's input.
- **the grader boundary**: the core env turns a grader or sandbox failure into a grade whose reason is ``error``;
  :meth:`EpisodeSession.step` raises :class:`GradingError` for it, so no adapter can pass it on as a reward of 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from score_env import envs  # noqa: F401  (registers the built-in score/ envs)
from score_env.records import Grade, GradeReason
from score_env.registry import TaskSpec, resolve_env
from score_env.text import escape_surrogates, escape_text

ChatMessage = dict[str, str]  # {"role": ..., "content": ...}, as chat templates and every engine take them
DETAIL_CHARS = 1000  # of a failed grade's detail quoted in the error's message (``GradingError.detail`` has it all)


class GradingError(RuntimeError):
    """An attempt graded ``error``: the grader or the sandbox failed, so the attempt has no reward at all."""

    def __init__(self, problem_id: str, attempt: int, detail: str):
        # The detail may quote the program's output: shown escaped, so the message prints and serialises anywhere.
        shown = escape_text(detail, DETAIL_CHARS, one_line=True) or "no detail"
        super().__init__(
            f"grading attempt {attempt} of problem {problem_id!r} failed ({shown}); the attempt has "
            "no reward. This is a grader or sandbox failure, not a wrong answer: fix the grader (or the sandbox), "
            "or drop this rollout."
        )
        self.problem_id, self.attempt, self.detail = problem_id, attempt, detail


@dataclass(frozen=True)
class EnvChoice:
    """Which score env an adapter drives."""

    env: str  # an env id (score/MATH-v0) or short name (math), as `score-env envs` lists them
    split: str = "train"
    max_attempts: int = 2
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)  # the task's own arguments (digits=3, subjects=...)

    def spec(self) -> TaskSpec:
        """The registered task; fails with the allowed names, or the allowed splits, when either is unknown."""
        spec = resolve_env(self.env)
        if self.split not in spec.splits:
            raise ValueError(f"split {self.split!r} is not a split of {spec.env_id}. Allowed: {', '.join(spec.splits)}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        return spec

    def make(self) -> gym.Env:
        """A fresh core env (intrinsic feedback, always)."""
        return gym.make(
            self.spec().env_id,
            split=self.split,
            max_attempts=self.max_attempts,
            feedback="intrinsic",
            **dict(self.env_kwargs),
        )


@dataclass(frozen=True)
class ProblemPrompt:
    """One problem of a split with the messages the model answers at attempt 1 (an engine's dataset row)."""

    index: int  # what `reset(options={"index": index})` takes
    problem_id: str
    prompt: tuple[ChatMessage, ...]


def problem_prompts(choice: EnvChoice, indices: Sequence[int] | None = None) -> list[ProblemPrompt]:
    """The first prompt of each problem (all of the split by default), for engines that read prompts from a dataset."""
    env = choice.make()
    try:
        task = env.unwrapped.task
        chosen = range(len(task.problems)) if indices is None else indices
        return [
            ProblemPrompt(i, task.problems[i].id, tuple(m.as_dict() for m in task.first_prompt(task.problems[i])))
            for i in chosen
        ]
    finally:
        env.close()


@dataclass(frozen=True)
class AttemptResult:
    """One graded attempt, as an engine needs it."""

    new_messages: tuple[ChatMessage, ...]  # shown to the model next: the correction instruction, or () at the end
    reward: float  # the paper's binary reward of this attempt
    done: bool  # True after the last attempt (never earlier: the core env never stops on a correct attempt)
    grade: Grade
    attempt: int  # 1-based
    problem_id: str

    def info(self) -> dict[str, Any]:
        """The grade as the core env's ``info`` carries it (diagnostics for the trainer; never shown to the model).

        A lone surrogate in its text (a program's ``raise ValueError("\\ud800")`` quoted in ``detail``) is written
        as its escape, so that every engine's JSON logs, result files and wire formats can encode it."""
        info = {**self.grade.as_info(), "attempt": self.attempt, "problem_id": self.problem_id}
        return {k: escape_surrogates(v) if isinstance(v, str) else v for k, v in info.items()}


class EpisodeSession:
    """One episode of a score env at a time, driven attempt by attempt: the piece every adapter wraps."""

    def __init__(self, choice: EnvChoice):
        self.choice = choice
        self.env = choice.make()
        self.messages: tuple[ChatMessage, ...] = ()  # the conversation so far, as the core env observes it
        self.grades: list[Grade] = []
        self.problem_id = ""
        self.last: AttemptResult | None = None  # the latest attempt of this episode
        self._failed: GradingError | None = None

    @property
    def num_problems(self) -> int:
        return len(self.env.unwrapped.task.problems)

    def reset(self, *, index: int | None = None, seed: int | None = None) -> tuple[ChatMessage, ...]:
        """Start an episode on problem ``index`` (or one drawn with ``seed``); returns the first prompt."""
        observation, info = self.env.reset(seed=seed, options=None if index is None else {"index": index})
        self.messages, self.grades, self.last, self._failed = tuple(observation), [], None, None
        self.problem_id = info["problem_id"]
        return self.messages

    def step(self, response: str) -> AttemptResult:
        """Grade one attempt. Raises :class:`GradingError` when its grade's reason is ``error``."""
        if self._failed is not None:
            raise RuntimeError(f"this episode failed ({self._failed}); call reset() to start another")
        observation, reward, terminated, truncated, info = self.env.step(response)
        grade = Grade.from_info(info)
        if grade.reason is GradeReason.ERROR:
            self._failed = GradingError(info["problem_id"], info["attempt"], grade.detail)
            raise self._failed
        # The core env appended the attempt (assistant) and, unless the episode is over, the correction instruction.
        new_messages = tuple(observation[len(self.messages) + 1 :])
        self.messages = tuple(observation)
        self.grades.append(grade)
        self.last = AttemptResult(
            new_messages, float(reward), terminated or truncated, grade, info["attempt"], self.problem_id
        )
        return self.last

    def metrics(self) -> dict[str, float]:
        """This episode's SCoRe metrics so far (see :func:`episode_metrics`)."""
        return episode_metrics(self.grades)

    def close(self) -> None:
        self.env.close()


def episode_metrics(grades: Sequence[Grade]) -> dict[str, float]:
    """One episode's values whose mean over episodes is :func:`~score_env.metrics.self_correction_metrics`' estimate
    of the same name: ``acc@t1`` ... ``acc@tT``, ``delta``, ``delta_i_to_c``, ``delta_c_to_i`` (PAPER.md, "Metrics")."""
    if not grades:
        return {}
    correct = [g.correct for g in grades]
    first, last = correct[0], correct[-1]
    metrics = {f"acc@t{t}": float(c) for t, c in enumerate(correct, start=1)}
    metrics["delta"] = float(last) - float(first)
    metrics["delta_i_to_c"] = float(not first and last)
    metrics["delta_c_to_i"] = float(first and not last)
    return metrics
