"""No answer can choose ``error`` in MATH grading either (issue #24): once an answer reached the grader, whatever goes
wrong is its failure (``invalid``, ``memory``, ``timeout``); ``error`` is left for what no answer can cause."""

from __future__ import annotations

import sys
import time

import pytest

from score_env.envs.math import worker
from score_env.envs.math.answers import extract_final_answer
from score_env.envs.math.grader import MathGrader
from score_env.records import GradeReason

READY = "import sys\nprint('ready', flush=True)\nsys.stdin.readline()\n"


@pytest.mark.parametrize(
    ("after_reading", "reason"),
    [
        ("import os\nos._exit(3)\n", GradeReason.INVALID),  # the worker dies on the answer
        ("print('[[[', flush=True)\n", GradeReason.INVALID),  # answers out of protocol
        ('print(\'["memory", "out of memory"]\', flush=True)\n', GradeReason.MEMORY),  # runs out of memory
    ],
)
def test_a_worker_that_fails_on_the_answer_is_the_answers_failure(after_reading, reason):
    grader = MathGrader(workers=1, timeout_s=10, command=[sys.executable, "-c", READY + after_reading])
    try:
        grade = grader.grade("1", "\\boxed{1}")
        assert grade.reason is reason and not grade.correct, grade
    finally:
        grader.close()


def test_math_verify_raising_on_the_answer_is_invalid_and_on_the_gold_answer_is_ours(monkeypatch):
    import math_verify

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(math_verify, "verify", broken)
    reason, detail = worker.verify_answer("1", "2")
    assert reason == GradeReason.INVALID.value and "on the answer" in detail
    monkeypatch.setattr(math_verify, "parse", broken)
    reason, detail = worker.verify_answer("1", "2")
    assert reason == GradeReason.ERROR.value and "gold answer" in detail


@pytest.mark.parametrize(
    "response",
    [
        "\\boxed{" * 200_000,  # unclosed boxes: matching each to the end was quadratic
        "\\boxed $" * 200_000,
        "The final answer is " * 50_000,
        "x" * 1_000_000,  # a megabyte line
        "\\boxed{\ud800\x00}",  # a lone surrogate and a NUL in the answer
    ],
    ids=["unclosed boxes", "empty boxes", "repeated final answers", "a megabyte line", "hostile text"],
)
def test_reading_a_hostile_response_is_linear(response):
    start = time.process_time()
    extract_final_answer(response)
    assert time.process_time() - start < 5  # linear: well under a second; quadratic: minutes


def test_a_hostile_answer_is_graded_never_error():
    grader = MathGrader(workers=1, timeout_s=5)
    try:
        for response in ("\\boxed{\ud800\x00}", "\\boxed{" + "(" * 5000 + "}", "\\boxed{" + "1" * 100_000 + "}"):
            grade = grader.grade("1", response)
            assert grade.reason is not GradeReason.ERROR and not grade.correct, grade
    finally:
        grader.close()
