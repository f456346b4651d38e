"""A failure of ours (sandbox, judge, the tests themselves) is an ``error`` grade saying what failed, never ``wrong``.

``error`` grades carry no reward signal, so the other direction matters too: nothing the candidate does earns one
(tests/sandboxes/test_choice.py: a program cannot pose as a sandbox failure).
"""

from __future__ import annotations

import contextlib
import sys

import pytest

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.judges import JudgePool
from score_env.envs.code.specs import TestSpec
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs
from score_env.envs.worker_process import LineProcess
from score_env.records import GradeReason, Problem
from score_env.sandboxes import Limits, make_sandbox

PROBLEM = humaneval_problems()[0]
SOLUTION = str(PROBLEM.metadata["canonical_solution"])


class BrokenSandbox:
    """A real sandbox that runs something other than the driver it is given (as if its Python were missing)."""

    name = "broken"
    isolated = True

    def __init__(self, fails_to_start: bool = False):
        self.inner, self.fails_to_start = make_sandbox("auto"), fails_to_start

    def start(self, program, *, limits):
        if self.fails_to_start:
            raise OSError("cgroup: permission denied")
        return self.inner.start("import os\nos._exit(127)\n", limits=limits)


class DyingJudges(JudgePool):
    """Hands out judges that read the task and exit."""

    @contextlib.contextmanager
    def lease(self):
        judge = LineProcess([sys.executable, "-c", "import sys; sys.stdin.readline()"])
        yield judge
        judge.kill()


@pytest.mark.infrastructure_failure
@pytest.mark.parametrize(
    ("sandbox", "judges", "detail"),
    [
        (BrokenSandbox(), None, "sandbox: the sandbox did not run the driver"),  # no driver line, whatever the exit
        (BrokenSandbox(fails_to_start=True), None, "sandbox could not start: OSError"),  # start() raised
        (None, DyingJudges(), "the judge died"),  # the judge exits mid-attempt
    ],
)
def test_sandbox_and_judge_failures_are_errors(sandbox, judges, detail):
    grader = CodeGrader(sandbox or make_sandbox("auto"), Limits(timeout_s=5), humaneval_specs(), judges)
    grade = grader.grade(PROBLEM, SOLUTION)
    assert grade.reason is GradeReason.ERROR and detail in grade.detail, grade


@pytest.mark.infrastructure_failure
@pytest.mark.parametrize(
    ("tests", "detail"),
    [
        ("def broken(:\n", "the tests do not load"),  # the dataset's tests do not compile
        ("assert f(lambda x: x) == 1\n", "cannot send the inputs of f"),  # the tests pass what the format cannot carry
    ],
)
def test_tests_the_judge_cannot_run_are_errors(tests, detail):
    problem = Problem("custom/1", "", tests, {"entry_point": "f"})
    spec = TestSpec(prelude="", tests=tests, call="", remote=("f",))
    grader = CodeGrader(make_sandbox("auto"), Limits(timeout_s=5), {"custom/1": spec})
    grade = grader.grade(problem, "def f(x):\n    return 1\n")
    assert grade.reason is GradeReason.ERROR and detail in grade.detail, grade
