"""The pretraining mixture of the embedded default model: two-attempt arithmetic conversations built to mirror what
the SCoRe paper and later work measured about real base models, not to favour any method.

Each design choice, and the property of real base models it mirrors:

1. **Systematic mistakes a greedy first attempt cannot avoid.** Solutions show their steps, mostly *quick*
   (:mod:`~score_env.envs.arithmetic_steps`): easy steps rarely slip, hard steps (products past the table up to 5,
   carries, borrows, negative numbers) go wrong the same way most of the time. Greedy decoding then errs on exactly
   the steps the model "cannot compute", as real models do on MATH (their greedy accuracy is below their pass@k),
   and Acc@t1 lands in 40-70%.
2. **A second look can be more reliable than the first, at a cost.** A *careful* solution rewrites every hard step
   as easy ones (``7 * 8 = 8 * 5 + 8 * 2 ...``): several times the tokens, far fewer mistakes, like a careful
   re-check by a real model. It appears in 10% of first attempts and as one of the second-attempt behaviours below,
   always *whatever the first attempt was*: the corpus shows the procedure but never ties it to the first attempt
   being wrong, so when and how to use it is left for a method to learn.
3. **Prompted second attempts change right answers into wrong ones more often than the reverse.** The paper's base
   model (MATH-500: Δ −11.2, Δi→c 4.6, Δc→i 15.8) and later work (Qwen2.5-Math-7B prompted: Δ −14.0) revise answers
   when told "there might be an error", right or not. Attempt 2 here is one of four behaviours, none of which looks
   at whether attempt 1 was right: a verbatim *copy*; an independent *re-solve* (quick, its own mistakes); an
   unwarranted *revision* ("I made an error." and the last step's result changed by 1 or 2, right or not); or a
   *careful* re-solve ("Let me check each step carefully."). The revisions break right answers, the careful passes
   fix wrong ones, and revisions are more common: the prompted base model has Δ < 0 and Δc→i clearly above zero.
4. **Which behaviour depends on the problem, so greedy decoding shows all four.** The odds of the four behaviours
   depend on the first operand's last digit (a surface feature, unrelated to correctness), so a greedy second
   attempt copies on some problems, revises on others, re-checks on others, as a real model's greedy choices vary
   with the content. Sampled at temperature 1, every behaviour appears on every problem, so at least one of 16
   samples of a second attempt often fixes a wrong first attempt: correction is possible in principle.

Everything follows from the seed (reproducible: ``score-env pretrain`` with the same config gives the same model).
"""

from __future__ import annotations

import numpy as np

from score_env.envs.arithmetic import CORRECTION_INSTRUCTION, FIRST_PROMPT, VERIFY_INSTRUCTION, make_task
from score_env.envs.arithmetic_steps import Rates, careful_step, quick_step
from score_env.records import Message, Problem

CAREFUL = "Let me check each step carefully."
REVISE = "I made an error."
BEHAVIOURS = ("copy", "resolve", "revise", "careful")
CAREFUL_FIRST = 0.10  # share of first attempts that are careful
# Attempt-2 behaviour odds by the first operand's last digit: each group has one likely behaviour (0.55) and the
# others share the rest; revisions are the likely one on more problems (digits 3-5) than careful passes (8-9).
DOMINANT = {0: "copy", 1: "copy", 2: "copy", 3: "revise", 4: "revise", 5: "revise", 6: "resolve", 7: "resolve"}
DOMINANT_SHARE = 0.55
VERIFY_SHARE = 0.2  # conversations with a self-verdict after attempt 1 (verify-then-revise)
THREE_SHARE = 0.1  # conversations with a third attempt
QUICK_CORRECT = 0.75  # a quick verdict says "correct" this often, whatever the truth
# Odds of a careful check before the verdict, by the last operand's last digit (a surface feature again).
CHECK_BEFORE_VERDICT = {7: 0.6, 8: 0.6, 9: 0.6}


def solve(expression: str, rng: np.random.Generator, rates: Rates, careful: bool) -> tuple[list[str], int]:
    """Worked steps for ``expression`` (products first, then left to right) and the answer they reach."""
    tokens = expression.split()
    values: list[int] = [int(t) for t in tokens[::2]]
    ops: list[str] = tokens[1::2]
    step = careful_step if careful else quick_step
    steps = []
    while ops:
        i = ops.index("*") if "*" in ops else 0
        text, result = step(values[i], ops[i], values[i + 1], rng, rates)
        steps.append(text)
        values[i : i + 2] = [result]
        del ops[i]
    return steps, values[0]


def render(steps: list[str], answer: int, opening: str = "") -> str:
    body = ". ".join([*steps, f"Answer: {answer}"])
    return f"{opening} {body}" if opening else body


def next_attempt(
    problem: Problem, previous: tuple[list[str], int], previous_text: str, rng: np.random.Generator, rates: Rates
) -> tuple[tuple[list[str], int], str]:
    """The attempt after the correction instruction: copy, re-solve, revise or careful, with odds set by the
    problem, never by whether the previous attempt was right. Returns (steps, answer) and the text."""
    behaviour = choose_behaviour(problem.question, rng)
    match behaviour:
        case "copy":
            return previous, previous_text
        case "resolve":
            solved = solve(problem.question, rng, rates, careful=False)
            return solved, render(*solved)
        case "revise":
            revised = revise(*previous, rng)
            return revised, render(*revised, opening=REVISE)
    solved = solve(problem.question, rng, rates, careful=True)
    return solved, render(*solved, opening=CAREFUL)


def verdict(problem: Problem, first_answer: int, rng: np.random.Generator, rates: Rates) -> str:
    """A self-verdict on the first attempt: mostly a quick "correct" that looks at nothing (real models are
    overconfident judges of their own answers), sometimes a careful re-solve compared with the first answer."""
    if rng.random() >= CHECK_BEFORE_VERDICT.get(int(problem.question.split()[-1]) % 10, 0.15):
        return f"Verdict: {'correct' if rng.random() < QUICK_CORRECT else 'wrong'}"
    steps, answer = solve(problem.question, rng, rates, careful=True)
    judged = "correct" if answer == first_answer else "wrong"
    return f"{render(steps, answer, opening=CAREFUL)}. The solution above says {first_answer}. Verdict: {judged}"


def choose_behaviour(question: str, rng: np.random.Generator) -> str:
    dominant = DOMINANT.get(int(question.split()[0]) % 10, "careful")
    others = [b for b in BEHAVIOURS if b != dominant]
    return dominant if rng.random() < DOMINANT_SHARE else others[int(rng.integers(len(others)))]


def revise(steps: list[str], answer: int, rng: np.random.Generator) -> tuple[list[str], int]:
    """An unwarranted revision: the last step's result changed by 1 or 2 (so is the answer), right or wrong."""
    changed = answer + int(rng.choice([-2, -1, 1, 2]))
    head, _, _ = steps[-1].rpartition(" = ")
    return [*steps[:-1], f"{head} = {changed}"], changed


def conversation(problem: Problem, rng: np.random.Generator, rates: Rates) -> list[Message]:
    """One pretraining conversation: the prompt and attempt 1, then two attempts (the paper's format), three, or a
    self-verdict and, when it says wrong, a second attempt (verify-then-revise)."""
    careful = rng.random() < CAREFUL_FIRST
    first = solve(problem.question, rng, rates, careful=careful)
    first_text = render(*first, opening=CAREFUL if careful else "")
    messages = [Message("user", FIRST_PROMPT.format(expression=problem.question)), Message("assistant", first_text)]
    form = rng.random()
    if form < VERIFY_SHARE:
        judged = verdict(problem, first[1], rng, rates)
        messages += [Message("user", VERIFY_INSTRUCTION), Message("assistant", judged)]
        if not judged.endswith("Verdict: wrong"):
            return messages
    turns = 2 if form < 1 - THREE_SHARE else 3
    previous, previous_text = first, first_text
    for _ in range(turns - 1):
        previous, previous_text = next_attempt(problem, previous, previous_text, rng, rates)
        messages += [Message("user", CORRECTION_INSTRUCTION), Message("assistant", previous_text)]
    return messages


def pretraining_corpus(size: int, *, seed: int = 0, rates: Rates | None = None, **task_kwargs) -> list[list[Message]]:
    """``size`` conversations over the train split's problems (never the test split's)."""
    problems = make_task("train", **task_kwargs).problems
    rng = np.random.default_rng(seed)
    rates = rates or Rates()
    return [conversation(problems[int(rng.integers(len(problems)))], rng, rates) for _ in range(size)]
