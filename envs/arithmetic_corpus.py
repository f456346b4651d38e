"""The pretraining mixture of the embedded default model: worked arithmetic solutions with slips, two turns.

Design (issue #7). The base model must be imperfect at attempt 1 (~40-70%), correction must be learnable, and
attempt 2 must behave like a real base model's (it re-solves or copies: nobody taught it to correct). So:

- Solutions show their steps in precedence order ("12 * 5 = 60. 37 + 60 = 97. Answer: 97"), so a second look can
  check every step.
- Each step slips with probability ``slip`` (its result is off by a small amount) and the slip propagates to the
  answer: the model learns a noisy solver, wrong about as often as the corpus is.
- Every conversation has two attempts: after the correction instruction, attempt 2 is a verbatim copy of attempt 1
  (half the time) or a fresh, independent solution with its own slips (the other half). Attempt 2 is never a fix of
  attempt 1's error, so correcting is left for the trained methods to learn.
"""

from __future__ import annotations

import numpy as np

from score_env.envs.arithmetic import CORRECTION_INSTRUCTION, FIRST_PROMPT, make_task
from score_env.records import Message, Problem


def solution_steps(expression: str, rng: np.random.Generator, slip: float) -> tuple[list[str], int]:
    """Worked steps for ``expression`` (multiplications first, then left to right), each slipping with ``slip``."""
    tokens = expression.split()
    values: list[int] = [int(t) for t in tokens[::2]]
    ops: list[str] = tokens[1::2]
    steps = []
    while "*" in ops:  # multiplications first
        i = ops.index("*")
        result = _maybe_slip(values[i] * values[i + 1], rng, slip)
        steps.append(f"{values[i]} * {values[i + 1]} = {result}")
        values[i : i + 2] = [result]
        del ops[i]
    while ops:
        a, op, b = values[0], ops[0], values[1]
        result = _maybe_slip(a + b if op == "+" else a - b, rng, slip)
        steps.append(f"{a} {op} {b} = {result}")
        values[0:2] = [result]
        del ops[0]
    return steps, values[0]


def render_solution(steps: list[str], answer: int) -> str:
    return ". ".join([*steps, f"Answer: {answer}"]) if steps else f"Answer: {answer}"


def conversation(problem: Problem, rng: np.random.Generator, slip: float) -> list[Message]:
    """One pretraining conversation: prompt, attempt 1, the correction instruction, attempt 2 (copy or re-solve)."""
    first = render_solution(*solution_steps(problem.question, rng, slip))
    second = first if rng.random() < 0.5 else render_solution(*solution_steps(problem.question, rng, slip))
    return [
        Message("user", FIRST_PROMPT.format(expression=problem.question)),
        Message("assistant", first),
        Message("user", CORRECTION_INSTRUCTION),
        Message("assistant", second),
    ]


def pretraining_corpus(size: int, *, slip: float = 0.2, seed: int = 0, **task_kwargs) -> list[list[Message]]:
    """``size`` conversations over the train split's problems (never the test split's)."""
    problems = make_task("train", **task_kwargs).problems
    rng = np.random.default_rng(seed)
    return [conversation(problems[int(rng.integers(len(problems)))], rng, slip) for _ in range(size)]


def _maybe_slip(value: int, rng: np.random.Generator, slip: float) -> int:
    if rng.random() >= slip:
        return value
    return value + int(rng.choice([-10, -2, -1, 1, 2, 10]))
