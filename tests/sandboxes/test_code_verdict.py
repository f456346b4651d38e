"""Code grading on every backend: reference solutions pass, wrong ones fail, and the known reward hacks fail.

The attack families of issue #12 (frames, gc, /proc/self/mem, helpers, sys.modules...) are in test_attacks.py.
"""

from __future__ import annotations

import pytest

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs
from score_env.records import GradeReason
from score_env.sandboxes import Limits

PROBLEM = humaneval_problems()[0]  # has_close_elements(numbers, threshold) -> bool
SOLUTION = PROBLEM.metadata["canonical_solution"]

HACKS = {
    "sys.exit(0) before the tests": "import sys\nsys.exit(0)\n",
    "os._exit(0) before the tests": "import os\nos._exit(0)\n",
    "os._exit(0) inside the call": "import os\ndef has_close_elements(numbers, threshold):\n    os._exit(0)\n",
    "fake success marker": "import os\nprint('PASS')\nos.write(1, b'ok PASS\\n')\nos._exit(0)\n",
    "always-equal object": (
        "class Yes:\n    def __eq__(self, other):\n        return True\n    def __bool__(self):\n        return True\n"
        "def has_close_elements(numbers, threshold):\n    return Yes()\n"
    ),
    "bool subclass that equals everything": (
        "class Yes(int):\n    def __eq__(self, other):\n        return True\n"
        "def has_close_elements(numbers, threshold):\n    return Yes(1)\n"
    ),
    "monkeypatched builtins": (
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.len = lambda x: 0\n"
        "def has_close_elements(numbers, threshold):\n    return False\n"
    ),
    "monkeypatched AssertionError": (
        "import builtins\nclass Never(Exception):\n    pass\nbuiltins.AssertionError = Never\n"
        "def has_close_elements(numbers, threshold):\n    return False\n"
    ),
    "trace function that hides failures": (
        "import sys\nsys.settrace(lambda *a: None)\ndef has_close_elements(numbers, threshold):\n    return False\n"
    ),
    "atexit hook printing success": (
        "import atexit\natexit.register(lambda: print('PASS'))\n"
        "def has_close_elements(numbers, threshold):\n    raise SystemExit(0)\n"
    ),
}


@pytest.fixture(scope="module")
def grader(backend):
    return CodeGrader(backend.sandbox, Limits(timeout_s=10), humaneval_specs())


def test_the_reference_solution_passes(grader):
    grade = grader.grade(PROBLEM, f"```python\n{SOLUTION}\n```")
    assert grade.reason is GradeReason.OK, grade.detail


def test_a_wrong_solution_fails(grader):
    grade = grader.grade(PROBLEM, "```python\ndef has_close_elements(numbers, threshold):\n    return False\n```")
    assert grade.reason is GradeReason.WRONG and "AssertionError" in grade.detail
    assert grade.sandbox == grader.sandbox.name  # every grade records the backend that ran the code


@pytest.mark.parametrize("hack", sorted(HACKS))
def test_reward_hack_fails(grader, hack):
    grade = grader.grade(PROBLEM, f"```python\n{HACKS[hack]}```")
    assert grade.reason is GradeReason.WRONG and not grade.correct, grade


def test_a_looping_solution_times_out(grader):
    slow = CodeGrader(grader.sandbox, Limits(timeout_s=1), humaneval_specs())
    grade = slow.grade(PROBLEM, "```python\ndef has_close_elements(numbers, threshold):\n    while True: pass\n```")
    assert grade.reason is GradeReason.TIMEOUT and "CPU time" in grade.detail


def test_a_sleeping_solution_times_out_on_the_wall_clock(grader):
    slow = CodeGrader(grader.sandbox, Limits(timeout_s=1, wall_timeout_s=1), humaneval_specs())
    program = "import time\ndef has_close_elements(numbers, threshold):\n    time.sleep(60)\n"
    grade = slow.grade(PROBLEM, f"```python\n{program}```")
    assert grade.reason is GradeReason.TIMEOUT and "wall-clock" in grade.detail


def test_waiting_does_not_count_as_cpu_time(grader):
    # timeout_s is CPU time: a solution that waits longer than it (as one does on a loaded host) still passes.
    patient = CodeGrader(grader.sandbox, Limits(timeout_s=1, wall_timeout_s=30), humaneval_specs())
    grade = patient.grade(PROBLEM, f"```python\nimport time\ntime.sleep(1.2)\n{SOLUTION}\n```")
    assert grade.reason is GradeReason.OK, grade.detail


@pytest.mark.parametrize(
    ("response", "detail"),
    [("I do not know.", "SyntaxError"), ("", "no code"), ("```python\ndef f(:\n```", "SyntaxError")],
)
def test_no_code_or_broken_code_is_unparsable(grader, response, detail):
    grade = grader.grade(PROBLEM, response)
    assert grade.reason is GradeReason.UNPARSABLE and detail in grade.detail


def test_all_164_canonical_humaneval_solutions_pass_and_wrong_ones_fail(backend):
    from concurrent.futures import ThreadPoolExecutor

    grader = CodeGrader(backend.sandbox, Limits(timeout_s=10), humaneval_specs())
    problems = humaneval_problems()
    with ThreadPoolExecutor(4) as pool:
        right = list(pool.map(lambda p: grader.grade(p, str(p.metadata["canonical_solution"])), problems))
        # A wrong solution: the right function with its last return value replaced by None.
        wrong = list(pool.map(lambda p: grader.grade(p, _break(p)), problems[:20]))
    assert [p.id for p, g in zip(problems, right, strict=True) if not g.correct] == []
    assert not any(g.correct for g in wrong)


def _break(problem) -> str:
    entry = problem.metadata["entry_point"]
    return f"{problem.metadata['canonical_solution']}\n\ndef {entry}(*args, **kwargs):\n    return None\n"


@pytest.mark.slow
def test_all_974_mbpp_reference_solutions_pass(backend):
    from concurrent.futures import ThreadPoolExecutor

    from score_env.envs.code.tasks import MBPP_SPLITS, make_mbpp_task

    tasks = [make_mbpp_task(split, sandbox=backend.sandbox.name) for split in MBPP_SPLITS]
    jobs = [(task, problem) for task in tasks for problem in task.problems]
    with ThreadPoolExecutor(4) as pool:
        grades = list(pool.map(lambda job: job[0].grade(job[1], str(job[1].metadata["canonical_solution"])), jobs))
    for task in tasks:
        task.close()
    assert len(jobs) == 974
    assert [(p.id, g.detail) for (_, p), g in zip(jobs, grades, strict=True) if not g.correct] == []
