"""Choose the corpus's hard-step error rate from a real base model's pass@1-versus-pass@k gap (not a timed test).

    python benchmarks/corpus_calibration.py

The target: Qwen2.5-Math-7B (base), MATH test, 256 samples at T = 0.6, unbiased pass@k (Zhu et al. 2025, "The
Surprising Effectiveness of Negative Reinforcement in LLM Reasoning", arXiv 2506.01347, Table 1): pass@1 63.2,
pass@2 76.0, pass@4 83.7, pass@8 88.4, pass@16 91.6. For each candidate rate (one rate for every hard kind, the easy
slip rate kept at 0.03) it samples 64 first attempts per test problem from the corpus's own first-attempt
distribution (what the pretrained model samples at T = 1), computes the same unbiased pass@k, and prints the squared
error to the target curve; the smallest wins. Run once, before pretraining; the chosen rate is ``Rates``' default.

Then, with ``Detection``'s defaults, what the step-by-step check does per solution on sampled first attempts: the
share of wrong solutions whose earliest wrong step it calls wrong first (ProcessBench's "error" accuracy; GPT-4o on
GSM8K: 70.0) and the share of right solutions in which it calls any step wrong (100 minus its "correct" accuracy;
GPT-4o: 8.8; Zheng et al. 2024, arXiv 2412.06559, Table 5).
"""

from __future__ import annotations

from math import comb

import numpy as np

from score_env.envs.arithmetic import make_task
from score_env.envs.arithmetic_corpus import CAREFUL_FIRST, Detection, check, solve
from score_env.envs.arithmetic_steps import Rates, exact

TARGET = {1: 63.2, 2: 76.0, 4: 83.7, 8: 88.4, 16: 91.6}
SAMPLES = 64


def pass_at(k: int, n: int, c: int) -> float:
    return 1.0 - comb(n - c, k) / comb(n, k)


def curve(rates: Rates, seed: int = 0) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    problems = make_task("test").problems
    per_k = {k: 0.0 for k in TARGET}
    for p in problems:
        right = sum(
            solve(p.question, rng, rates, careful=rng.random() < CAREFUL_FIRST)[1] == int(p.reference)
            for _ in range(SAMPLES)
        )
        for k in TARGET:
            per_k[k] += pass_at(k, SAMPLES, right)
    return {k: 100 * v / len(problems) for k, v in per_k.items()}


def main() -> None:
    best = None
    for hard in np.arange(0.50, 0.91, 0.05):
        rates = Rates(easy=0.03, mul=hard, carry=hard, borrow=hard, sign=hard)
        got = curve(rates)
        error = sum((got[k] - TARGET[k]) ** 2 for k in TARGET)
        print(f"hard {hard:.2f}: " + "  ".join(f"pass@{k} {v:.1f}" for k, v in got.items()) + f"  sq.err {error:.1f}")
        best = min(best or (error, hard), (error, hard))
    print(f"best: hard-step error rate {best[1]:.2f} (target: {TARGET})")
    located, false_alarm = detection_rates(Rates(), Detection())
    print(f"check, per solution: earliest error located in {located:.1f}% of wrong solutions, "
          f"{false_alarm:.1f}% of right ones flagged (GPT-4o on GSM8K: 70.0, 8.8)")  # fmt: skip


def detection_rates(rates: Rates, detection: Detection, samples: int = 20, seed: int = 0) -> tuple[float, float]:
    """Run the corpus's own check on sampled first attempts: the share of wrong ones whose first step called wrong is
    their earliest wrong step, and the share of right ones in which some step is called wrong."""
    rng = np.random.default_rng(seed)
    located = wrong = flagged = right = 0
    for p in make_task("test").problems:
        for _ in range(samples):
            first = solve(p.question, rng, rates, careful=rng.random() < CAREFUL_FIRST)
            (steps, _), _ = check(p.question, first, rng, rates, detection)
            errors = [s.value != exact(s.a, s.op, s.b) for s in first[0]]
            changed = [i for i, (a, b) in enumerate(zip(first[0], steps, strict=False)) if a is not b]
            called = changed[0] if changed else None  # the first step the check rewrote is the one it called wrong
            if first[1] != int(p.reference):
                wrong += 1
                located += True in errors and called == errors.index(True)
            else:
                right += 1
                flagged += called is not None
    return 100 * located / wrong, 100 * flagged / right


if __name__ == "__main__":
    main()
