"""No candidate can choose ``error`` (issue #24): every route that once made a wrong answer ``error``, or a judge run
outside its limits, is the candidate's failure, with a reason of its own, on every backend.

Each route is a program a policy could write. ``forge`` programs write their own line on the protocol's channel (the
driver's stdout, which the candidate's code can find among its file descriptors) where the driver's would go.
Judge overruns use tasks of their own whose trusted tests do something expensive with the candidate's answer.
"""

from __future__ import annotations

import pytest

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.specs import TestSpec
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs
from score_env.records import GradeReason, Problem
from score_env.sandboxes import Limits

PROBLEM = humaneval_problems()[0]  # has_close_elements(numbers, threshold) -> bool
SOLUTION = str(PROBLEM.metadata["canonical_solution"])
LIMITS = Limits(timeout_s=2)


def forge(line: bytes, *, before_ready: bool = False) -> str:
    """A program that writes ``line`` on every descriptor it may write to: before its code has loaded (where the
    driver's ready message goes), or as its answer to the first call (then leaves)."""
    write = (
        "    for fd in range(3, 16):\n        try:\n            os.write(fd, LINE + b'\\n')\n"
        "        except OSError:\n            pass\n"
    )
    head = f"import os\nLINE = {line!r}\n"
    if before_ready:
        return f"{head}def forge():\n{write}forge()\ndef has_close_elements(numbers, threshold):\n    return True\n"
    return f"{head}def has_close_elements(numbers, threshold):\n{write}    os._exit(0)\n"


def returns(expression: str) -> str:
    return f"def has_close_elements(numbers, threshold):\n    return {expression}\n"


ROUTES = {
    # fake protocol lines
    "a fake ready line with a 401-digit complex (Python literal)": forge(
        b"{'ready': 1" + b"0" * 400 + b"j}", before_ready=True
    ),
    "a fake ready line with a 5000-digit number": forge(b'{"ready": ' + b"9" * 5000 + b"}", before_ready=True),
    "a fake ready line of a megabyte": forge(b'{"ready": "' + b"x" * (1 << 20) + b'"}', before_ready=True),
    "a fake ready line that says ready and more": forge(b'{"ready": true, "value": 1}', before_ready=True),
    "a reply with a junk key of 0.9 MB": forge(b'{"value": true, "junk": [' + b"0," * 450_000 + b"0]}"),
    "a reply that is two answers": forge(b'{"value": true, "raised": "x"}'),
    "a reply that is not UTF-8": forge(b'{"value": "\xff\xfe"}'),
    "a reply nested a million deep": forge(b"[" * 500_000 + b"]" * 500_000),
    # expensive values
    "a Fraction tag with a billion-digit power of ten": forge(b'{"value": {"$": "Fraction", "v": "1e1000000000"}}'),
    "a Decimal tag whose int() has a billion digits": forge(b'{"value": {"$": "Decimal", "v": "1E+999999999"}}'),
    "a 30-byte range that tuple() would make 2 GB of": forge(b'{"value": {"$": "range", "v": [0, 300000000, 1]}}'),
    "a megabyte of f-string fields": forge(b'{"value": "' + b"{x!r:>{y}}" * 100_000 + b'"}'),
    "sets of ints that share one hash": forge(
        b'{"value": {"$": "set", "v": [' + b",".join(b"%d" % (i * (2**61 - 1)) for i in range(1, 5)) + b"]}}"
    ),
    # hostile text
    "an exception holding a lone surrogate": returns("(_ for _ in ()).throw(ValueError('\\ud800'))"),
    "an exception holding NUL and escapes": returns("(_ for _ in ()).throw(ValueError('\\x00\\x1b[2J'))"),
    "an answer holding a lone surrogate": returns("'\\udfff'"),
    "a load error holding a lone surrogate": "raise ValueError('\\ud800')\n",
    "a megabyte line on stdout": "print('x' * (1 << 20))\n" + returns("True"),
    "invalid UTF-8 on stderr": "import os\nos.write(2, b'\\xff\\xfe' * 1000)\n" + returns("True"),
}


@pytest.fixture(scope="module")
def grader(backend):
    return CodeGrader(backend.sandbox, LIMITS, humaneval_specs())


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_route_to_error_is_the_candidates_failure(grader, route):
    grade = grader.grade(PROBLEM, f"```python\n{ROUTES[route]}```")
    assert not grade.correct and grade.reason is not GradeReason.ERROR, grade
    assert grader.grade(PROBLEM, f"```python\n{SOLUTION}\n```").correct  # and the next attempt is graded as usual


def _task(tests: str, prelude: str = "") -> tuple[Problem, dict[str, TestSpec]]:
    problem = Problem("judge-task", "", "", {"entry_point": "answer"})
    return problem, {problem.id: TestSpec(prelude=prelude, tests=tests, call="", remote=("answer",))}


OVERRUNS = {
    # the tests spin on the candidate's number: the judge's CPU limit, then the kernel, stops them
    "the tests loop as long as the answer says": ("n = answer()\nwhile n:\n    n -= 1\n", "10 ** 15", "CPU time"),
    # the tests build what the answer asks for: the judge's memory limit stops them
    "the tests allocate what the answer says": ("[0] * answer()\n", "10 ** 10", "out of memory"),
    # the tests pass the answer back, one level deeper than the format carries
    "the tests pass the answer back deeper": (
        "v = answer()\nfor _ in range(3):\n    v = [v]\nanswer(v)\n",
        "__import__('functools').reduce(lambda a, _: [a], range(99), [])",
        "cannot send the inputs",
    ),
    # the judge process dies while the tests use the answer
    "the judge dies on the answer": ("import os\nif answer():\n    os._exit(3)\n", "True", "died on the candidate's"),
}
REASONS = {"CPU time": "timeout", "out of memory": "memory", "cannot send the inputs": "invalid", "died on": "invalid"}


@pytest.mark.parametrize("name", sorted(OVERRUNS))
def test_a_judge_that_overruns_on_the_answers_is_the_candidates_failure(backend, name):
    tests, answer, detail = OVERRUNS[name]
    problem, specs = _task(tests)
    grader = CodeGrader(backend.sandbox, Limits(timeout_s=1, wall_timeout_s=20), specs)
    grade = grader.grade(problem, f"```python\ndef answer(*args):\n    return {answer}\n```")
    reason = next(r for key, r in REASONS.items() if key in detail)
    # stopped by the judge's own limits (its CPU time, its memory), not by the relay's deadline (+30 s)
    assert grade.reason.value == reason and detail in grade.detail and not grade.correct, grade


@pytest.mark.infrastructure_failure
@pytest.mark.parametrize(
    ("tests", "prelude", "detail"),
    [
        ("def broken(:\n", "", "the tests do not load"),  # trusted tests that do not compile
        ("answer()\n", "import os\nos._exit(3)\n", "before the candidate's output reached it"),  # dies first
        ("answer(object())\n", "", "cannot send the inputs"),  # tests pass what the format cannot carry
        ("answer()\nanswer(object())\n", "", "cannot send the inputs"),  # ... even after an answer came back
    ],
)
def test_a_judge_that_fails_before_any_answer_is_ours(backend, tests, prelude, detail):
    problem, specs = _task(tests, prelude)
    grade = CodeGrader(backend.sandbox, LIMITS, specs).grade(problem, "def answer(*args):\n    return 1\n")
    assert grade.reason is GradeReason.ERROR and detail in grade.detail, grade


def test_every_attempt_at_a_task_sees_the_same_random_inputs_whatever_ran_before(backend):
    problem, specs = _task("import random\nanswer(random.random())\n")
    grader = CodeGrader(backend.sandbox, LIMITS, specs)
    shows = "def answer(x):\n    raise ValueError(repr(x))\n"
    first = grader.grade(problem, shows).detail
    other, other_specs = _task("import random\nrandom.random()\nanswer(random.random())\n")
    CodeGrader(backend.sandbox, LIMITS, other_specs).grade(other, shows)  # draws from the same judge's random
    assert grader.grade(problem, shows).detail == first and "ValueError" in first


EVAL_ROUTES = [
    "an exception holding a lone surrogate",
    "a fake ready line with a 401-digit complex (Python literal)",
    "a Fraction tag with a billion-digit power of ten",
    "a megabyte line on stdout",
    "invalid UTF-8 on stderr",
]


def test_score_env_eval_and_view_of_a_policy_that_writes_the_routes(monkeypatch, tmp_path):
    """Through the commands: ``score-env eval`` on HumanEval (the default sandbox) with a policy that answers problem
    i with route i, then ``score-env view``: exit 0, every attempt graded, none ``error``."""
    from score_env.cli import main
    from score_env.config.policy import PolicyConfig
    from score_env.layout import EvalLayout
    from score_env.runs import read_episodes
    from tests.conftest import ScriptedPolicy

    problems = humaneval_problems()[: len(EVAL_ROUTES)]
    routes = {
        p.question.strip(): ROUTES[r].replace("has_close_elements", str(p.metadata["entry_point"]))
        for p, r in zip(problems, EVAL_ROUTES, strict=True)
    }

    def answer(conversation) -> str:
        first = next(m.content for m in conversation if m.role == "user")
        return f"```python\n{next(code for q, code in routes.items() if q in first)}```"

    monkeypatch.setattr(PolicyConfig, "load", lambda self, model: ScriptedPolicy(answer))
    run_dir = tmp_path / "eval"
    argv = [
        "eval",
        "agent=prompting",
        "env=humaneval",
        "model=embedded",
        f"limit={len(EVAL_ROUTES)}",
        f"run_dir={run_dir}",
    ]
    assert main(argv) == 0
    grades = [a.grade for e in read_episodes(EvalLayout(run_dir).episodes) for a in e.attempts]
    assert len(grades) == 2 * len(EVAL_ROUTES) and not any(g.correct or g.reason is GradeReason.ERROR for g in grades)
    assert main(["view", str(run_dir)]) == 0
