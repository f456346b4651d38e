"""The MATH grader, table-driven: extraction, then math-verify in a worker pool with a hard time limit."""

from __future__ import annotations

import time

import pytest

from score_env.envs.math.grader import MathGrader
from score_env.records import GradeReason

OK, WRONG, UNPARSABLE = GradeReason.OK, GradeReason.WRONG, GradeReason.UNPARSABLE


def final(answer: str) -> str:
    """A response in the paper's format."""
    return f"Some reasoning.\nFinal Answer: The final answer is ${answer}$. I hope it is correct."


def boxed(answer: str) -> str:
    return f"So the answer is $\\boxed{{{answer}}}$."


# (gold, response, expected reason), one comment per row.
TABLE = [
    ("\\frac{1}{2}", final("0.5"), OK),  # fraction vs decimal
    ("\\frac{1}{2}", final("\\dfrac12"), OK),  # \dfrac and brace-less arguments
    ("\\frac{1}{2}", boxed("\\tfrac{1}{2}"), OK),  # \tfrac, boxed
    ("0.5", final("\\frac{1}{2}"), OK),  # the other direction
    ("\\frac{1}{2}", final("\\frac{1}{3}"), WRONG),  # a different fraction
    ("\\frac{\\sqrt{3}}{2}", final("\\frac{1}{2}\\sqrt{3}"), OK),  # the same surd written differently
    ("2\\sqrt{2}", final("\\sqrt{8}"), OK),  # simplified radical
    ("\\left( 3, \\frac{\\pi}{2} \\right)", final("(3,\\frac{\\pi}{2})"), OK),  # tuple with \left( \right)
    ("(3, \\frac{\\pi}{2})", final("(\\frac{\\pi}{2}, 3)"), WRONG),  # tuple order matters
    ("[2,5)", final("[2, 5)"), OK),  # interval
    ("[2,5)", final("[2,5]"), WRONG),  # open vs closed end
    ("(-\\infty, 3]", final("(-\\infty,3]"), OK),  # unbounded interval
    ("\\{1,2\\}", final("\\{2,1\\}"), OK),  # set order does not matter
    ("1, 2", final("2, 1"), OK),  # a list of solutions is a set
    ("30^\\circ", final("30"), OK),  # degrees dropped
    ("30^\\circ", final("30^{\\circ}"), OK),  # degrees with braces
    ("10\\text{ cm}", final("10"), OK),  # units in \text{}
    ("10", final("10 \\text{ cm}^2"), OK),  # units on the answer
    ("\\$18.90", final("18.90"), OK),  # currency sign
    ("18.90", final("\\$18.9"), OK),  # trailing zero and currency
    ("2\\frac{1}{2}", final("\\frac{5}{2}"), OK),  # mixed number
    ("2\\frac{1}{2}", final("2.5"), OK),  # mixed number vs decimal
    ("\\text{(A)}", final("A"), OK),  # multiple-choice letter, bare
    ("\\text{(C)}", final("(C)"), OK),  # multiple-choice letter in parentheses
    ("\\text{(C)}", final("(B)"), WRONG),  # another letter
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", final("\\begin{pmatrix}1\\\\2\\end{pmatrix}"), OK),  # matrix
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", final("\\begin{pmatrix}2\\\\1\\end{pmatrix}"), WRONG),  # order
    ("x^2+2x+1", final("(x+1)^2"), OK),  # algebraically equal expressions
    ("x^2+2x+1", final("(x-1)^2"), WRONG),  # algebraically different
    ("50\\%", final("50"), OK),  # percent sign
    ("-3", final("-3"), OK),  # negative integer
    ("-3", final("3"), WRONG),  # sign matters
    ("5", final("6"), WRONG),  # plainly wrong value
    ("1000", final("1,000"), OK),  # thousands separator
    ("\\pi", final("3.14"), WRONG),  # an approximation is not the exact value
    ("\\text{Evelyn}", final("\\text{Evelyn}"), OK),  # a word answer
    ("5", "The answer is five, I think.", UNPARSABLE),  # no final-answer marker, no box
    ("5", "", UNPARSABLE),  # empty response
    ("5", "\\boxed{5", UNPARSABLE),  # unbalanced box: not an answer
    ("5", "First \\boxed{3}, then on reflection \\boxed{5}.", OK),  # two boxes: the last one counts
    ("5", "First \\boxed{5}, then on reflection \\boxed{3}.", WRONG),  # ... in both directions
    ("5", final("3") + " Actually " + final("5"), OK),  # two final answers: the last one counts
    ("\\frac{3}{4}", "Final Answer: The final answer is 3/4. I hope it is correct.", OK),  # no $...$, slash
    ("12", "Final Answer: The final answer is $12$.", OK),  # without "I hope it is correct"
    ("5", final("@#%^&"), UNPARSABLE),  # garbage math-verify cannot read
]


@pytest.fixture(scope="module")
def grader():
    g = MathGrader(workers=2, timeout_s=5.0)
    yield g
    g.close()


def test_the_table_has_at_least_forty_rows():
    assert len(TABLE) >= 40


def test_grades_match_the_table(grader):
    golds, responses, expected = zip(*TABLE, strict=True)
    grades = grader.grade_many(golds, responses)
    mismatches = [
        (g, r, e, got) for g, r, e, got in zip(golds, responses, expected, grades, strict=True) if got.reason != e
    ]
    assert not mismatches, "\n".join(
        f"gold {g!r} response {r!r}: expected {e}, got {got}" for g, r, e, got in mismatches
    )


def test_a_pathological_answer_times_out_within_the_limit_and_the_batch_goes_on():
    grader = MathGrader(workers=2, timeout_s=1.0)
    try:
        grader.start()  # start the workers before timing
        start = time.monotonic()
        grades = grader.grade_many(
            ["5", "5", "\\frac{1}{2}", "7"],
            [boxed("9^{9^{9^{9}}}"), boxed("5"), final("0.5"), final("8")],
        )
        elapsed = time.monotonic() - start
        assert [g.reason for g in grades] == [GradeReason.TIMEOUT, OK, OK, WRONG]
        assert grades[0].extracted == "9^{9^{9^{9}}}" and "1.0 s" in grades[0].detail
        assert elapsed < 1.0 + 3.0  # the limit plus generous slack for killing and replacing a worker
        assert grader.grade("2", boxed("2")).correct  # the pool still works after the kill
    finally:
        grader.close()


def test_a_problem_without_a_gold_answer_is_an_error_not_a_wrong_answer(grader):
    grade = grader.grade("", final("5"))
    assert grade.reason == GradeReason.ERROR and "no gold answer" in grade.detail


def test_grading_works_from_threads(grader):
    # The rollout loop grades in threads; math-verify's own signal.alarm timeouts would raise there.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        grades = list(pool.map(lambda a: grader.grade("4", final(a)), ["4", "2+2", "5", "4.0"]))
    assert [g.correct for g in grades] == [True, True, False, True]
