"""Grading an answer the way a run does (through the env: its grader boundary and its checks), under a watchdog.

Every answer is one fresh episode: ``reset`` on the problem, ``step`` with the answer. A grader that does not return
within the bound raises :class:`GraderHung`: Python cannot stop the thread, so it is left behind (a daemon thread:
it never keeps the process alive) and the battery stops there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from score_env.registry import EnvFactory
from score_env.watchdog import within


@dataclass(frozen=True)
class Outcome:
    """What the env said about one answer, and how long it took."""

    reward: float
    reason: str
    correct: bool
    extracted: str | None
    detail: str
    seconds: float

    def same_grade(self, other: Outcome) -> bool:
        return (self.reward, self.reason, self.correct, self.extracted) == (
            other.reward, other.reason, other.correct, other.extracted
        )  # fmt: skip


@dataclass
class Player:
    """Plays answers on an opened env factory and keeps every grading time (for the latency figures)."""

    envs: EnvFactory
    bound_s: float
    seconds: list[float] = field(default_factory=list)

    def grade(self, index: int, answer: str) -> Outcome:
        """Attempt 1 of a fresh episode on problem ``index``."""

        def play() -> Outcome:
            env = self.envs(2)
            env.reset(seed=0, options={"index": index})
            start = time.perf_counter()
            _, reward, _, _, info = env.step(answer)
            seconds = time.perf_counter() - start
            return Outcome(float(reward), str(info["reason"]), bool(info["correct"]), info.get("extracted"),
                           str(info.get("detail") or ""), seconds)  # fmt: skip

        outcome = within(self.bound_s, play, f"grading an answer to problem {index}")
        self.seconds.append(outcome.seconds)
        return outcome

    def episode(self, index: int, actions: list[str], stop: str = "fixed") -> list[tuple[Any, bool, bool]]:
        """One episode of ``actions``: after each, the observation and the terminated and truncated flags."""

        def play() -> list[tuple[Any, bool, bool]]:
            env = replace(self.envs, stop=stop)(2)  # type: ignore[arg-type]
            env.reset(seed=0, options={"index": index})
            steps = []
            for action in actions:
                obs, _, terminated, truncated, _ = env.step(action)
                steps.append((obs, terminated, truncated))
                if terminated or truncated:
                    break
            return steps

        return within(self.bound_s * len(actions), play, f"an episode of problem {index}")
