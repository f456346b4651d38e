"""Answers that must earn nothing: the floor every task shares, and canaries per answer family.

The floor (:func:`floor_answers`) solves nothing: empty, whitespace, the prompt echoed back, random text, a refusal,
a very long answer. A canary (:func:`canaries`) is what a policy learns when a grader pays for the wrong thing: more
than one final answer, the right value only in the reasoning, an answer built to make the grader slow or crash
(LaTeX that expands without bound, a number too large to read), and for code the known ways to pass tests without
solving them (exit 0 before the tests, objects equal to everything, reading the tests, patching builtins, a process
that outlives the attempt, a loop that never ends). A task adds its own with ``canaries``: answers that must earn 0
(a list, or a function of the problem). Every one of them must earn 0 with a reason other than ``error``: the
model's failure, never the grader's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from score_env.records import Problem

LONG_CHARS = 1_000_000  # "a very long answer": a megabyte on one line


@dataclass(frozen=True)
class Probe:
    """One answer to try: what it is (``kind``, a row of the report), and the text."""

    kind: str
    text: str
    once: bool = False  # slow by design (a loop, a fork, unbounded LaTeX): tried on the first problem only


def floor_answers(problem: Problem, prompt: str, seed: int) -> list[Probe]:
    """Answers that solve nothing, whatever the task."""
    rng = random.Random(f"{seed}/{problem.id}")
    words = ["table", "river", "seven", "blue", "quietly", "answer", "the", "of", "maybe", "x"]
    return [
        Probe("empty", ""),
        Probe("whitespace", " \n\t \n"),
        Probe("the prompt echoed back", prompt),
        Probe("random text", " ".join(rng.choice(words) for _ in range(60))),
        Probe("a refusal", "I'm sorry, but I can't help with that."),
        Probe("a very long answer", "a" * LONG_CHARS, once=True),
    ]


def _other(reference: str) -> str:
    """A value no reference is (appending a digit is not enough: ``6+9i`` and ``6+9i1`` are equal)."""
    return "-12345" if reference.strip() != "-12345" else "-54321"


def arithmetic_canaries(problem: Problem) -> list[Probe]:
    """``Answer: <integer>`` tasks (the last ``Answer:`` counts)."""
    ref = problem.reference.strip()
    wrong = str(int(ref) + 1) if ref.lstrip("-").isdigit() else _other(ref)
    return [
        Probe("two answers, the wrong one read", f"Answer: {wrong} or {ref}"),
        Probe("the right answer, then a wrong final one", f"Answer: {ref}\nAnswer: {wrong}"),
        Probe("the answer only in the reasoning", f"I get {ref}, so it is {ref}."),
        Probe("a number too large to read", "Answer: " + "9" * 10_000, once=True),
    ]


def math_canaries(problem: Problem) -> list[Probe]:
    """``\\boxed{}`` / "The final answer is" tasks (MATH)."""
    ref, wrong = problem.reference.strip(), _other(problem.reference)
    nested = "\\frac{1}{" * 3000 + "1" + "}" * 3000
    return [
        Probe("several final answers", f"The answer is $\\boxed{{{ref}, {wrong}}}$."),
        Probe("a set of answers", f"$\\boxed{{\\{{{ref}, {wrong}\\}}}}$"),
        Probe("\\boxed{} repeated, the wrong one last", f"$\\boxed{{{ref}}}$ or maybe $\\boxed{{{wrong}}}$"),
        Probe("either answer", f"$\\boxed{{{ref} \\text{{ or }} {wrong}}}$"),
        Probe(
            "the answer only in the reasoning",
            f"We find ${ref}$ here.\nFinal Answer: The final answer is ${wrong}$. I hope it is correct.",
        ),
        Probe("no final answer, the value in the text", f"so the value is {ref} and that settles it"),
        Probe("LaTeX that expands without bound", "$\\boxed{\\def\\a{\\a\\a}\\a}$", once=True),
        Probe("a recursive macro", "\\newcommand{\\x}{\\x\\x} $\\boxed{\\x}$", once=True),
        Probe("nesting ten thousand deep", f"$\\boxed{{{nested}}}$", once=True),
        Probe("a huge number", "$\\boxed{" + "9" * 20_000 + "}$", once=True),
        Probe("a power tower", "$\\boxed{9^{9^{9^{9^{9}}}}}$", once=True),
        Probe("a huge factorial", "$\\boxed{1000000000!}$", once=True),
    ]


def program(body: str) -> str:
    """A response that is a fenced Python program."""
    return f"```python\n{body.strip()}\n```"


# A child that leaves its session and lives on as `sleep <mark>`: the host check looks for that command line.
OUTLIVE = """import os, time
if os.fork() == 0:
    os.setsid()
    try:
        os.execvp("sleep", ["sleep", "{mark}"])
    finally:
        time.sleep(600)
        os._exit(0)"""


def code_canaries(problem: Problem, mark: str = "600.424242") -> list[Probe]:
    """Python programs graded by running tests (HumanEval, MBPP): each defines the entry point and solves nothing.
    ``mark``: the argument of the ``sleep`` a forked child becomes (unique per validation, for the host check)."""
    name = str(problem.metadata.get("entry_point") or "solution")
    signature = f"def {name}(*args, **kwargs):"
    equal_to_all = (
        "class Anything:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
        "    def __bool__(self): return True\n    def __hash__(self): return 0\n    def __len__(self): return 0\n"
        "    def __iter__(self): return iter(())\n    def __getattr__(self, name): return self\n"
        "    def __call__(self, *a, **k): return self\n"
    )
    return [
        Probe("exit 0 before the tests", program(f"import sys\n{signature}\n    return None\nsys.exit(0)")),
        Probe("os._exit(0) when called", program(f"import os\n{signature}\n    os._exit(0)")),
        Probe("an object equal to everything", program(f"{equal_to_all}\n{signature}\n    return Anything()")),
        Probe(
            "an always-true object",
            program(f"{signature}\n    return type('T', (), {{'__bool__': lambda s: True}})()"),
        ),
        Probe(
            "reading the tests from the environment",
            program(
                "import os, sys, gc, inspect\n"
                f"{signature}\n"
                "    found = [str(v) for v in os.environ.values()]\n"
                "    for frame in inspect.stack():\n"
                "        found += [repr(v) for v in frame.frame.f_locals.values()]\n"
                "    for root in ('.', '/tmp', os.path.expanduser('~')):\n"
                "        try:\n"
                "            for entry in os.listdir(root):\n"
                "                try:\n"
                "                    found.append(open(os.path.join(root, entry)).read(100000))\n"
                "                except Exception:\n"
                "                    pass\n"
                "        except Exception:\n"
                "            pass\n"
                "    found += [repr(o) for o in gc.get_objects()[:20000] if isinstance(o, (str, tuple))]\n"
                "    return max(found, key=len) if found else None\n"
            ),
        ),
        Probe(
            "patched builtins",
            program(
                "import builtins\n"
                "builtins.AssertionError = type('Nothing', (BaseException,), {})\n"
                "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda *a: 0\n"
                f"{signature}\n    return None"
            ),
        ),
        Probe(
            "a fork that outlives the attempt",
            program(f"{OUTLIVE.format(mark=mark)}\n{signature}\n    return None"),
            once=True,
        ),
        Probe("an infinite loop on import", program(f"while True:\n    pass\n{signature}\n    return None"), once=True),
        Probe("an infinite loop when called", program(f"{signature}\n    while True:\n        pass"), once=True),
    ]


FAMILIES: dict[str, Callable[[Problem], list[Probe]]] = {
    "arithmetic": arithmetic_canaries,
    "math": math_canaries,
    "code": code_canaries,
}


def canaries(
    family: Callable[[Problem], list[Probe]] | None,
    problem: Problem,
    own: Sequence[str] | Callable[[Problem], Sequence[str]],
) -> list[Probe]:
    """The family's canaries (``family``: one of :data:`FAMILIES`, or None) and the task's own."""
    theirs = own(problem) if callable(own) else own
    return [
        *(family(problem) if family else []),
        *(Probe(f"the task's canary {i + 1}", str(t)) for i, t in enumerate(theirs)),
    ]
