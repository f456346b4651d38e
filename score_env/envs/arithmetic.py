"""``score/Arithmetic-v0``: procedural integer arithmetic, small enough for a CPU and a few-million-parameter model.

Each problem is an expression such as ``37 + 12 * 5`` with the usual precedence. The problem set of a split is
fixed by a seed, so ``reset(options={"index": i})`` names the same problem every time, and the test split never
shares an expression with the train split.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

import numpy as np

from score_env.records import Grade, Problem
from score_env.task import PromptTask

# Short on purpose: every training row repeats them, and on a CPU their tokens are most of the compute.
FIRST_PROMPT = "Compute {expression}. End with 'Answer: <integer>'."
CORRECTION_INSTRUCTION = "There might be an error in the solution above. Please correct it, if any, and rewrite it."
# Asked only with stop="model_decides" (verify-then-revise): the model judges its own answer.
VERIFY_INSTRUCTION = "Check the solution above. End with 'Verdict: correct' if it is right, or 'Verdict: wrong'."
OPERATORS = "+-*"
SPLIT_SEEDS = {"test": 1, "train": 0}
SPLIT_SIZES = {"test": 500, "train": 10_000}
_ANSWER = re.compile(r"answer\s*:\s*(-?\d+)", re.IGNORECASE)


def make_task(
    split: str = "train",
    digits: int = 1,
    operands: int = 3,
    operators: str = OPERATORS,
    size: int | None = None,
) -> PromptTask:
    """The arithmetic task for ``split`` ("train" or "test").

    Args:
        split: which fixed problem set.
        digits: operands are integers with at most this many digits (difficulty).
        operands: number of operands per expression (difficulty).
        operators: the operators to draw from, a subset of ``"+-*"``.
        size: number of problems (default 10,000 train, 500 test; fewer when the expression space is smaller:
            one-digit, three-operand problems have 9,000 expressions, 500 for test and 8,500 for train).
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    if not 1 <= digits <= 6 or operands < 2 or not operators or set(operators) - set(OPERATORS):
        raise ValueError(
            f"need 1 <= digits <= 6, operands >= 2 and operators from {OPERATORS!r}; "
            f"got digits={digits}, operands={operands}, operators={operators!r}"
        )
    problems = _problem_sets(digits, operands, operators, size)[split]
    return PromptTask(
        name="arithmetic",
        problems=problems,
        render_prompt=lambda p: FIRST_PROMPT.format(expression=p.question),
        correction_instruction=CORRECTION_INSTRUCTION,
        grade_response=grade_answer,
        family="arithmetic",
        reference_response=lambda p: f"{p.question} = {p.reference}. Answer: {p.reference}",
    )


def extract_answer(response: str) -> str | None:
    """The integer after the last ``Answer:``, or None."""
    matches = _ANSWER.findall(response)
    return matches[-1] if matches else None


def grade_answer(problem: Problem, response: str) -> Grade:
    """Exact integer match against the reference."""
    answer = extract_answer(response)
    if answer is None:
        return Grade.unparsable("no 'Answer: <integer>' in the response")
    # Compared as text (no int(): a 5,000-digit answer would raise, and a model's answer must never look like a
    # failure of ours): the same integer has one canonical spelling once its sign and leading zeros are settled.
    return Grade.ok(answer) if _canonical(answer) == _canonical(problem.reference) else Grade.wrong(answer[:40])


def _canonical(integer: str) -> str:
    digits = integer.strip().lstrip("-").lstrip("0") or "0"
    return digits if digits == "0" or not integer.strip().startswith("-") else f"-{digits}"


def evaluate(expression: str) -> int:
    """Value of ``a op b op ...`` with ``*`` binding tighter than ``+`` and ``-`` (no eval of strings)."""
    tokens = expression.split()
    terms: list[int] = [int(tokens[0])]
    signs: list[int] = [1]
    for op, operand in zip(tokens[1::2], tokens[2::2], strict=True):
        if op == "*":
            terms[-1] *= int(operand)
        else:
            terms.append(int(operand))
            signs.append(1 if op == "+" else -1)
    return sum(s * t for s, t in zip(signs, terms, strict=True))


@lru_cache(maxsize=16)
def _problem_sets(digits: int, operands: int, operators: str, size: int | None) -> dict[str, tuple[Problem, ...]]:
    # Test first, then train without any test expression, so the held-out split is truly held out.
    test = _draw("test", digits, operands, operators, size or SPLIT_SIZES["test"], exclude=frozenset())
    train = _draw(
        "train",
        digits,
        operands,
        operators,
        size or SPLIT_SIZES["train"],
        exclude=frozenset(p.question for p in test),
    )
    return {"test": test, "train": train}


ENUMERATE_BELOW = 200_000  # expression spaces smaller than this are enumerated and shuffled, not sampled


def _draw(
    split: str, digits: int, operands: int, operators: str, size: int, exclude: frozenset[str]
) -> tuple[Problem, ...]:
    rng = np.random.default_rng([SPLIT_SEEDS[split], digits, operands, len(operators)])
    problems: list[Problem] = []
    for expression in _candidates(rng, digits, operands, operators, size):
        if expression in exclude:  # the other split's
            continue
        problems.append(
            Problem(
                id=f"arithmetic/{split}/{len(problems)}",
                question=expression,
                reference=str(evaluate(expression)),
                metadata={"digits": digits, "operands": operands},
            )
        )
        if len(problems) == size:
            break
    return tuple(problems)


def _candidates(rng: np.random.Generator, digits: int, operands: int, operators: str, size: int):
    """Distinct expressions in a seeded order: every one of a small space, shuffled; else fresh random draws."""
    numbers = [str(n) for n in range(10**digits)]
    if len(numbers) ** operands * len(operators) ** (operands - 1) < ENUMERATE_BELOW:
        pools = [numbers] + [[f"{op} {n}" for op in operators for n in numbers]] * (operands - 1)
        everything = [" ".join(parts) for parts in itertools.product(*pools)]
        yield from (everything[i] for i in rng.permutation(len(everything)))
        return
    seen: set[str] = set()
    for _ in range(40):  # bounded
        draws = rng.integers(0, 10**digits, size=(4 * size, operands)).tolist()
        ops = rng.choice(list(operators), size=(4 * size, operands - 1)).tolist()
        for row, row_ops in zip(draws, ops, strict=True):
            expression = " ".join([str(row[0])] + [f"{op} {n}" for op, n in zip(row_ops, row[1:], strict=True)])
            if expression not in seen:
                seen.add(expression)
                yield expression
