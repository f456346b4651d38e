"""What every adapter shares: which score env to drive, one episode of it attempt by attempt, and its metrics.

An adapter never grades, prompts or decides when an episode ends by itself: it drives the core
:class:`~score_env.env.SelfCorrectionEnv` (always with ``feedback="intrinsic"``) through :class:`EpisodeSession` and
translates the result into its engine's types. That is how every adapter keeps the two properties of the core:

- **intrinsic**: the messages an adapter shows the model after an attempt are exactly the ones the core env appended
  (the task's correction instruction, or with ``stop="model_decides"`` its verification instruction), so they are
  identical whether the attempt was right or wrong. Grades go only
  to the engine's reward and diagnostics channels, never into the model's input.
- **the grader boundary**: the core env turns a grader or sandbox failure into a grade whose reason is ``error``;
  :meth:`EpisodeSession.step` raises :class:`GradingError` for it, so no adapter can pass it on as a reward of 0.

Every adapter pays the same rewards (issue 28): each turn's own reward (an attempt's, and in verify-then-revise,
``stop="model_decides"``, each self-verdict's) as the engine's per-turn or per-step reward where it has one, and the
same rewards by name (:func:`reward_components`: ``attempt_1`` ... ``attempt_T``, ``verdicts``) where it takes one
number per rollout. Never the last attempt's alone: a final-only reward collapses a verify-then-revise policy (PAG's
appendix: its verifier learns to say "correct" to everything) and pays a policy that answers wrong on purpose at
attempt 1 as much as one that is right twice (AdaPO). With weight 1 each, the rollout's reward is the sum of its
turns' rewards: the episode's return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from score_env import envs  # noqa: F401  (registers the built-in score/ envs)
from score_env.env import Stop
from score_env.records import Grade, GradeReason
from score_env.registry import TaskSpec, resolve_env
from score_env.text import escape_surrogates, escape_text

ChatMessage = dict[str, str]  # {"role": ..., "content": ...}, as chat templates and every engine take them
DETAIL_CHARS = 1000  # of a failed grade's detail quoted in the error's message (``GradingError.detail`` has it all)
ADAPTER_STOPS = ("fixed", "model_decides")  # the intrinsic settings (``on_correct`` needs oracle feedback)
VERDICTS = "verdicts"  # the reward component of the self-verdicts, beside attempt_1 ... attempt_T


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
    stop: Stop = "fixed"  # or "model_decides": verify-then-revise, a self-verdict after each attempt but the last

    def spec(self) -> TaskSpec:
        """The registered task; fails with the allowed names, or the allowed splits, when either is unknown."""
        spec = resolve_env(self.env)
        if self.split not in spec.splits:
            raise ValueError(f"split {self.split!r} is not a split of {spec.env_id}. Allowed: {', '.join(spec.splits)}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.stop not in ADAPTER_STOPS:
            raise ValueError(f"stop must be one of {', '.join(ADAPTER_STOPS)} (intrinsic feedback), got {self.stop!r}")
        return spec

    @property
    def max_turns(self) -> int:
        """The most responses an episode takes: its attempts, and a self-verdict between two attempts."""
        return 2 * self.max_attempts - 1 if self.stop == "model_decides" else self.max_attempts

    def make(self) -> gym.Env:
        """A fresh core env (intrinsic feedback, always)."""
        return gym.make(
            self.spec().env_id,
            split=self.split,
            max_attempts=self.max_attempts,
            feedback="intrinsic",
            stop=self.stop,
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
    """One graded turn (an attempt, or a self-verdict on one), as an engine needs it."""

    new_messages: tuple[ChatMessage, ...]  # shown to the model next: the next instruction, or () at the end
    reward: float  # the turn's binary reward: an attempt's for being right, a verdict's for judging it rightly
    done: bool  # True after the last turn: attempt max_attempts, or a verdict "correct" (never on the grader's say)
    grade: Grade
    attempt: int  # 1-based: the attempt made, or the attempt a verdict judged
    problem_id: str
    turn: str = "attempt"  # or "verdict" (stop="model_decides")

    def info(self) -> dict[str, Any]:
        """The grade as the core env's ``info`` carries it (diagnostics for the trainer; never shown to the model).

        A lone surrogate in its text (a program's ``raise ValueError("\\ud800")`` quoted in ``detail``) is written
        as its escape, so that every engine's JSON logs, result files and wire formats can encode it."""
        info = {**self.grade.as_info(), "turn": self.turn, "attempt": self.attempt, "problem_id": self.problem_id}
        return {k: escape_surrogates(v) if isinstance(v, str) else v for k, v in info.items()}


class EpisodeSession:
    """One episode of a score env at a time, driven attempt by attempt: the piece every adapter wraps."""

    def __init__(self, choice: EnvChoice):
        self.choice = choice
        self.env = choice.make()
        self.messages: tuple[ChatMessage, ...] = ()  # the conversation so far, as the core env observes it
        self.grades: list[Grade] = []  # the attempts'
        self.verdicts: list[Grade] = []  # the self-verdicts' (stop="model_decides")
        self.problem_id = ""
        self.last: AttemptResult | None = None  # the latest attempt of this episode
        self._failed: GradingError | None = None

    @property
    def num_problems(self) -> int:
        return len(self.env.unwrapped.task.problems)

    def reset(self, *, index: int | None = None, seed: int | None = None) -> tuple[ChatMessage, ...]:
        """Start an episode on problem ``index`` (or one drawn with ``seed``); returns the first prompt."""
        observation, info = self.env.reset(seed=seed, options=None if index is None else {"index": index})
        self.messages, self.grades, self.verdicts, self.last, self._failed = tuple(observation), [], [], None, None
        self.problem_id = info["problem_id"]
        return self.messages

    def step(self, response: str) -> AttemptResult:
        """Grade one turn. Raises :class:`GradingError` when its grade's reason is ``error``."""
        if self._failed is not None:
            raise RuntimeError(f"this episode failed ({self._failed}); call reset() to start another")
        observation, reward, terminated, truncated, info = self.env.step(response)
        grade = Grade.from_info(info)
        if grade.reason is GradeReason.ERROR:
            self._failed = GradingError(info["problem_id"], info["attempt"], grade.detail)
            raise self._failed
        # The core env appended the response (assistant) and, unless the episode is over, the next instruction.
        new_messages = tuple(observation[len(self.messages) + 1 :])
        self.messages = tuple(observation)
        turn = info["turn"]
        (self.verdicts if turn == "verdict" else self.grades).append(grade)
        done = terminated or truncated
        self.last = AttemptResult(new_messages, float(reward), done, grade, info["attempt"], self.problem_id, turn)
        return self.last

    def metrics(self) -> dict[str, float]:
        """This episode's SCoRe metrics (:func:`episode_metrics`) and rewards by name (:func:`reward_components`)."""
        attempts = self.choice.max_attempts
        return episode_metrics(self.grades, attempts) | reward_components(self.grades, self.verdicts, attempts)

    def close(self) -> None:
        self.env.close()


def episode_metrics(grades: Sequence[Grade], max_attempts: int | None = None) -> dict[str, float]:
    """One episode's values whose mean over episodes is :func:`~score_env.metrics.self_correction_metrics`' estimate
    of the same name: ``acc@t1`` ... ``acc@tT``, ``delta``, ``delta_i_to_c``, ``delta_c_to_i`` (PAPER.md, "Metrics").

    ``grades``: the attempts'. An episode that stopped before attempt ``max_attempts`` (its own verdict said
    "correct") is judged by the answer it stopped on at every later attempt, as ``self_correction_metrics`` does."""
    if not grades:
        return {}
    attempts = max(max_attempts or 0, len(grades))
    correct = [grades[min(t, len(grades) - 1)].correct for t in range(attempts)]
    first, last = correct[0], correct[-1]
    metrics = {f"acc@t{t}": float(c) for t, c in enumerate(correct, start=1)}
    metrics["delta"] = float(last) - float(first)
    metrics["delta_i_to_c"] = float(not first and last)
    metrics["delta_c_to_i"] = float(first and not last)
    return metrics


def reward_components(grades: Sequence[Grade], verdicts: Sequence[Grade], max_attempts: int) -> dict[str, float]:
    """An episode's rewards by name, for engines that take one number per rollout (their weighted sum) and for
    every engine's metrics: ``attempt_1`` ... ``attempt_T``, each attempt's own reward (0 for an attempt not made:
    the verdict that stopped the episode earned its own reward), and ``verdicts``, the sum of the self-verdicts'
    rewards (0 without ``stop="model_decides"``). Their sum is the episode's return, the sum of its turns' rewards.

    A policy that answers wrong on purpose at attempt 1 and right at attempt 2 earns 1, one right twice earns 2: a
    fix never pays more than keeping a right answer (AdaPO's failure mode of rewards that pay for improvement)."""
    components = {f"attempt_{t}": grades[t - 1].reward if t <= len(grades) else 0.0 for t in range(1, max_attempts + 1)}
    components[VERDICTS] = float(sum(v.reward for v in verdicts))
    return components


def reward_names(max_attempts: int) -> list[str]:
    """The names :func:`reward_components` gives, in order."""
    return [f"attempt_{t}" for t in range(1, max_attempts + 1)] + [VERDICTS]
