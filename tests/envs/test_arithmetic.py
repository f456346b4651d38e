"""score/Arithmetic-v0: fixed seeded problem sets, held-out test split, exact grader."""

from __future__ import annotations

import gymnasium as gym
import pytest

from score_env.envs.arithmetic import evaluate, extract_answer, grade_answer, make_task
from score_env.records import GradeReason, Problem


def test_problem_sets_are_fixed_per_split():
    assert make_task("test").problems == make_task("test").problems
    first = [gym.make("score/Arithmetic-v0", split="test").reset(options={"index": 7})[0] for _ in range(2)]
    assert first[0] == first[1]
    assert make_task("test").problems != make_task("train").problems


def test_test_split_is_held_out_from_train():
    train = {p.question for p in make_task("train").problems}
    test = {p.question for p in make_task("test").problems}
    # One-digit, three-operand problems: 9,000 expressions in all, 500 held out for test.
    assert len(test) == 500 and len(train) == 8_500 and not train & test
    bigger = make_task("train", digits=2)
    assert len(bigger.problems) == 10_000 and not {p.question for p in bigger.problems} & {
        p.question for p in make_task("test", digits=2).problems
    }


def test_difficulty_is_an_argument():
    hard = make_task("test", digits=4, operands=5).problems[0]
    assert len(hard.question.split()) == 9
    assert all(len(tok) <= 4 for tok in hard.question.split()[::2])
    assert set(" ".join(p.question for p in make_task("test", operators="+").problems)) <= set("0123456789 +")


def test_tiny_expression_spaces_give_fewer_problems_instead_of_hanging():
    problems = make_task("test", digits=1, operands=2, operators="+").problems
    assert 0 < len(problems) <= 100


@pytest.mark.parametrize(
    ("expression", "value"),
    [("2 + 3 * 4", 14), ("10 - 2 * 3", 4), ("5 * 6 - 7", 23), ("1 - 2 - 3", -4), ("2 * 3 * 4 + 1", 25)],
)
def test_evaluate_uses_the_usual_precedence(expression, value):
    assert evaluate(expression) == value


PROBLEM = Problem("x", "7 * 8 - 60", "-4")


@pytest.mark.parametrize(
    ("response", "reason", "extracted"),
    [
        ("7*8=56, 56-60=-4. Answer: -4", GradeReason.OK, "-4"),  # the expected form
        ("answer : -4", GradeReason.OK, "-4"),  # case and spaces do not matter
        ("Answer: 4", GradeReason.WRONG, "4"),  # sign matters
        ("Answer: 5. Wait. Answer: -4", GradeReason.OK, "-4"),  # the last answer counts
        ("Answer: -4. No, Answer: 4", GradeReason.WRONG, "4"),  # ... in both directions
        ("Answer: 004", GradeReason.WRONG, "004"),  # integers compare by value, 4 != -4
        ("the result is -4", GradeReason.UNPARSABLE, None),  # no 'Answer:' marker
        ("", GradeReason.UNPARSABLE, None),  # empty
        ("Answer: $\\frac{-8}{2}$", GradeReason.UNPARSABLE, None),  # not an integer
        ("Answer: -0004", GradeReason.OK, "-0004"),  # leading zeros: the same integer
    ],
)
def test_grader(response, reason, extracted):
    grade = grade_answer(PROBLEM, response)
    assert (grade.reason, grade.extracted) == (reason, extracted)
    assert extract_answer(response) == extracted


def test_an_integer_too_long_to_convert_is_wrong_never_an_error():
    """Python refuses int() of more than 4,300 digits: a model's answer must still be the model's failure."""
    grade = grade_answer(PROBLEM, "Answer: " + "9" * 10_000)
    assert grade.reason == GradeReason.WRONG and len(grade.extracted) == 40
    assert grade_answer(Problem("big", "", "-" + "9" * 5000), "Answer: -" + "9" * 5000).correct


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="split"):
        make_task("validation")
    with pytest.raises(ValueError, match="digits"):
        make_task("test", digits=0)
    with pytest.raises(ValueError, match="operators"):
        make_task("test", operators="/")
