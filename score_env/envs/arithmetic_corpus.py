"""The pretraining mixture of the embedded default model: two-attempt arithmetic conversations built to mirror what
the SCoRe paper and later work measured about real base models, not to favour any method.

Each design choice, the property of real base models it mirrors, and its source (the base model's target profile,
committed with this corpus before any method trained on it, is in README.md, "The embedded base model"):

1. **Systematic mistakes a greedy first attempt cannot avoid, at a calibrated rate.** Solutions show their steps,
   mostly *quick* (:mod:`~score_env.envs.arithmetic_steps`): easy steps rarely slip (3%), hard steps (products past
   the table up to 5, carries, borrows, negative numbers) go wrong the same way at one rate for every hard kind.
   That rate (0.65) is fitted to a real base model's pass@1-versus-pass@k gap: Qwen2.5-Math-7B on MATH, pass@1 63.2,
   pass@2 76.0, pass@4 83.7, pass@8 88.4, pass@16 91.6 (Zhu et al. 2025, arXiv 2506.01347, Table 1), by
   ``benchmarks/corpus_calibration.py`` (the corpus's first attempts at that rate: 59.2, 73.5, 86.6, 95.7, 99.4;
   this task has no problems a model can never solve, so its curve saturates sooner). Greedy decoding then errs on
   exactly the hard steps, and greedy accuracy sits below pass@k.
2. **A second look can be more reliable than the first, at a cost.** A *careful* solution rewrites every hard step
   as a chain of easy ones (``7 * 8 = 8 * 5 + 8 * 2 = 40 + 16 = 56``): more tokens, far fewer mistakes. It appears
   in 10% of first attempts and as a second-attempt behaviour, whatever the first attempt was.
3. **A check that reads attempt 1, with imperfect detection.** One second-attempt behaviour walks the first
   attempt's steps and judges each: a step whose right result is small (under 40) is recomputed (carefully when
   hard) and compared with the value written (``6 * 6 = 30? 6 * 6 = 6 * 5 + 6 * 1 = 30 + 6 = 36, no``), with lapses
   (a difference let through 20% of the time, an agreement called wrong 3%); a step with a large result only gets a
   glance that catches a wrong one 30% of the time and flags a right one 3%. It rewrites from the first step it
   calls wrong (its recomputed value, the rest quickly, so a later hard step can go wrong again); nothing called
   wrong keeps the answer. Nothing reads the grader (:class:`Detection`). Per solution
   (``benchmarks/corpus_calibration.py``, sampled first attempts of the test split) the check locates the earliest
   error in 69.4% of wrong solutions and flags 10.8% of right ones, as GPT-4o does on GSM8K in ProcessBench (Zheng
   et al. 2024, arXiv 2412.06559, Table 5: 70.0% located, 8.8% of right solutions flagged; Qwen2.5-72B-Instruct
   62.8% and 3.1%). Smaller models do worse there (Qwen2.5-7B-Instruct: 40.6% located, 66.8% false alarms), and on
   multistep arithmetic GPT-4 locates 41.6% (Tyen et al. 2024, arXiv 2311.08516, Table 9). Recomputing before
   judging mirrors that a model corrects well once it has found where the error is (Tyen et al., Table 6: +18.0
   points on wrong traces given the true location, 0.0 on right ones). The first version judged each step in one
   token ("? No") with no recomputation; the model pretrained on it never learnt to tell a wrong step from a right
   one (P(No) 0.15-0.23 whatever the step; README), so the check now recomputes. The small/large split is ours, so
   that greedy detection misses some errors.
4. **Prompted second attempts change right answers into wrong ones more often than the reverse.** The paper's base
   model (MATH-500: Δ −11.2, Δi→c 4.6, Δc→i 15.8; SCoRe, arXiv 2409.12917, Table 2), Qwen2.5-Math-7B prompted
   (Δ −14.0, Δi→c 1.4, Δc→i 15.4; arXiv 2502.19613, Table 3) and GPT-3.5 on GSM8K (answer kept 74.7% of the time,
   more right answers changed than wrong ones fixed; Huang et al. 2023, arXiv 2310.01798, section 3.3). Attempt 2
   here is one of five behaviours, none of which is chosen by whether attempt 1 was right: a verbatim *copy*; an
   independent quick *re-solve*; an unwarranted *revision* ("I made an error." and the last step's result changed
   by 1 or 2); a *careful* re-solve; the step-by-step *check*. Revisions are the likely behaviour on more problems
   than checks and careful re-solves together, so the prompted base model has Δ < 0 and Δc→i > Δi→c.
5. **Which behaviour depends on the problem, so greedy decoding shows several.** The odds depend on the first
   operand's last digit (a surface feature, unrelated to correctness), so a greedy second attempt copies on some
   problems, revises on others, checks on others, as a real model's greedy choices vary with content. Sampled at
   temperature 1, every behaviour appears on every problem.

Everything follows from the seed (reproducible: ``score-env pretrain`` with the same config gives the same model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from score_env.envs.arithmetic import CORRECTION_INSTRUCTION, FIRST_PROMPT, VERIFY_INSTRUCTION, make_task
from score_env.envs.arithmetic_steps import Rates, careful_step, exact, quick_step
from score_env.records import Message, Problem

CAREFUL = "Let me work carefully."
CHECK = "Let me check each step."
REVISE = "I made an error."
BEHAVIOURS = ("copy", "resolve", "revise", "careful", "check")
CAREFUL_FIRST = 0.10  # share of first attempts that are careful
# Attempt-2 behaviour odds by the first operand's last digit: each group has one likely behaviour (0.55) and the
# others share the rest; revisions are the likely one on more problems (digits 3-5) than checks (8) and careful
# re-solves (9) together.
DOMINANT = {0: "copy", 1: "copy", 2: "copy", 3: "revise", 4: "revise", 5: "revise", 6: "resolve", 7: "resolve"}
DOMINANT |= {8: "check"}  # 9: careful
DOMINANT_SHARE = 0.55
VERIFY_SHARE = 0.2  # conversations with a self-verdict after attempt 1 (verify-then-revise)
THREE_SHARE = 0.1  # conversations with a third attempt
QUICK_CORRECT = 0.75  # a quick verdict says "correct" this often, whatever the truth
# Odds of a careful check before the verdict, by the last operand's last digit (a surface feature again).
CHECK_BEFORE_VERDICT = {7: 0.6, 8: 0.6, 9: 0.6}


@dataclass(frozen=True)
class Detection:
    """How the step-by-step check judges a step of a given solution. A step whose right result is small
    (``recheck_below``) is recomputed (carefully when hard) and the recomputed value compared with the one written,
    with lapses of attention (``miss``: a difference let through; ``false_alarm``: an agreement called wrong). A step
    with a large result only gets a glance, which catches a wrong one ``glance_wrong`` of the time and flags a right
    one ``glance_right`` of the time. Nothing here reads the grader: only the step as written."""

    recheck_below: int = 40
    miss: float = 0.20
    false_alarm: float = 0.03
    glance_wrong: float = 0.30
    glance_right: float = 0.03

    def rechecks(self, a: int, op: str, b: int) -> bool:
        return abs(exact(a, op, b)) < self.recheck_below


@dataclass(frozen=True)
class Step:
    """One worked operation of a solution: its text and what it computed."""

    text: str
    a: int
    op: str
    b: int
    value: int


Solution = tuple[list[Step], int]  # the steps and the answer they reach


def solve(expression: str, rng: np.random.Generator, rates: Rates, careful: bool) -> Solution:
    """Worked steps for ``expression`` (products first, then left to right) and the answer they reach."""
    tokens = expression.split()
    return _finish([int(t) for t in tokens[::2]], tokens[1::2], rng, rates, careful)


def _finish(values: list[int], ops: list[str], rng: np.random.Generator, rates: Rates, careful: bool) -> Solution:
    """Work out what is left of an expression (``values`` and ``ops`` between them, both consumed)."""
    step = careful_step if careful else quick_step
    steps = []
    while ops:
        i = ops.index("*") if "*" in ops else 0
        a, op, b = values[i], ops[i], values[i + 1]
        text, result = step(a, op, b, rng, rates)
        steps.append(Step(text, a, op, b, result))
        values[i : i + 2] = [result]
        del ops[i]
    return steps, values[0]


def render(steps: list[Step], answer: int, opening: str = "") -> str:
    body = ". ".join([*(s.text for s in steps), f"Answer: {answer}"])
    return f"{opening} {body}" if opening else body


def check(
    expression: str, previous: Solution, rng: np.random.Generator, rates: Rates, detection: Detection
) -> tuple[Solution, str]:
    """Walk the previous attempt's steps, judging each (a small step recomputed and compared: ``6 * 6 = 30? 6 * 6 =
    6 * 5 + 6 * 1 = 30 + 6 = 36, no.``; a large one at a glance: ``7 * 8 = 48? Yes.``), and rewrite from the first
    step called wrong: its recomputed value (a glanced-at step is recomputed carefully then), the rest quickly.
    Nothing called wrong: the previous answer stands."""
    tokens = expression.split()
    values, ops = [int(t) for t in tokens[::2]], tokens[1::2]
    sentences: list[str] = []
    for done, s in enumerate(previous[0]):
        head = f"{s.a} {s.op} {s.b} = {s.value}?"
        i = ops.index("*") if "*" in ops else 0
        if detection.rechecks(s.a, s.op, s.b):
            text, value = careful_step(s.a, s.op, s.b, rng, rates)
            differs = value != s.value
            wrong = rng.random() < (1 - detection.miss if differs else detection.false_alarm)
            sentences.append(f"{head} {text}, {'no' if wrong else 'yes'}")
        else:
            odds = detection.glance_wrong if s.value != exact(s.a, s.op, s.b) else detection.glance_right
            wrong = rng.random() < odds
            text, value = careful_step(s.a, s.op, s.b, rng, rates) if wrong else ("", s.value)
            sentences.append(f"{head} No: {text}" if wrong else f"{head} Yes")
        values[i : i + 2] = [value if wrong else s.value]
        del ops[i]
        if wrong:
            rest, answer = _finish(values, ops, rng, rates, careful=False)
            steps = [*previous[0][:done], Step(text, s.a, s.op, s.b, value), *rest]
            sentences += [*(r.text for r in rest), f"Answer: {answer}"]
            return (steps, answer), f"{CHECK} " + ". ".join(sentences)
    sentences.append(f"Answer: {previous[1]}")
    return previous, f"{CHECK} " + ". ".join(sentences)


def next_attempt(
    problem: Problem, previous: Solution, previous_text: str, rng: np.random.Generator, rates: Rates,
    detection: Detection,
) -> tuple[Solution, str]:  # fmt: skip
    """The attempt after the correction instruction: copy, re-solve, revise, careful re-solve or a step-by-step
    check of the previous attempt, with odds set by the problem, never by whether the previous attempt was right.
    Returns the solution and its text."""
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
        case "check":
            return check(problem.question, previous, rng, rates, detection)
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


def revise(steps: list[Step], answer: int, rng: np.random.Generator) -> Solution:
    """An unwarranted revision: the last step's result changed by 1 or 2 (so is the answer), right or wrong."""
    changed = answer + int(rng.choice([-2, -1, 1, 2]))
    last = steps[-1]
    head, _, _ = last.text.rpartition(" = ")
    return [*steps[:-1], Step(f"{head} = {changed}", last.a, last.op, last.b, changed)], changed


def conversation(problem: Problem, rng: np.random.Generator, rates: Rates, detection: Detection) -> list[Message]:
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
        previous, previous_text = next_attempt(problem, previous, previous_text, rng, rates, detection)
        messages += [Message("user", CORRECTION_INSTRUCTION), Message("assistant", previous_text)]
    return messages


def pretraining_corpus(
    size: int, *, seed: int = 0, rates: Rates | None = None, detection: Detection | None = None, **task_kwargs
) -> list[list[Message]]:
    """``size`` conversations over the train split's problems (never the test split's)."""
    problems = make_task("train", **task_kwargs).problems
    rng = np.random.default_rng(seed)
    rates, detection = rates or Rates(), detection or Detection()
    return [conversation(problems[int(rng.integers(len(problems)))], rng, rates, detection) for _ in range(size)]
