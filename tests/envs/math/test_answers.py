"""Reading the final answer out of a solution."""

from __future__ import annotations

import pytest

from score_env.envs.math.answers import as_latex, extract_final_answer, last_boxed


@pytest.mark.parametrize(
    ("solution", "answer"),
    [
        ("... Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "$\\frac{1}{2}$"),  # paper form
        ("Final Answer: The final answer is 3.5. I hope it is correct.", "3.5"),  # a decimal point is not the end
        ("The final answer is $5$.\nThen more text.", "$5$"),  # without "I hope": up to the end of the line
        (
            "Final Answer: The final answer is $1$. I hope it is correct. Final Answer: The final answer is $2$. "
            "I hope it is correct.",
            "$2$",
        ),  # the last one
        ("Final Answer: The final answer is $answer$. I hope it is correct.", None),  # the template, not an answer
        ("so $\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"),  # boxed fallback, nested braces
        ("\\boxed{1} and \\boxed{\\{1,2\\}}", "\\{1,2\\}"),  # last box, escaped braces inside
        ("\\boxed 7 is it", "7"),  # brace-less box
        ("\\fbox{4}", "4"),  # \fbox
        ("\\boxed{1", None),  # unbalanced
        ("no answer at all", None),
        ("", None),
    ],
)
def test_extract_final_answer(solution, answer):
    assert extract_final_answer(solution) == answer


def test_last_boxed_and_as_latex():
    assert last_boxed("a \\boxed{x^{2}} b") == "x^{2}"
    assert as_latex("3") == "$3$" and as_latex("$3$") == "$3$"
