"""Grade all 500 MATH-500 reference solutions: the worker pool against plain sequential math-verify.

    python benchmarks/speed/grading.py [--workers N]

Prints the accuracy of each (expect 100%: every reference solution is right by definition) with every miss and why,
and answers/s of both in the same run, with their ratio.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

from score_env.envs.math.answers import as_latex, extract_final_answer
from score_env.envs.math.data import vendored_lines
from score_env.envs.math.grader import MathGrader


def sequential(golds: list[str], solutions: list[str]) -> list[bool]:
    """The obvious alternative: math-verify in this process, one answer after another, its own timeouts on."""
    from math_verify import parse, verify

    results = []
    for gold, solution in zip(golds, solutions, strict=True):
        answer = extract_final_answer(solution)
        results.append(answer is not None and verify(parse(as_latex(gold)), parse(as_latex(answer))))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    rows = [json.loads(line) for line in vendored_lines("test")]
    golds, solutions = [r["answer"] for r in rows], [r["solution"] for r in rows]

    grader = MathGrader(workers=args.workers)
    grader.grade_many(golds[:8], solutions[:8])  # start the workers (imports) before timing
    start = time.perf_counter()
    grades = grader.grade_many(golds, solutions)
    pool_s = time.perf_counter() - start
    grader.close()

    start = time.perf_counter()
    plain = sequential(golds, solutions)
    plain_s = time.perf_counter() - start

    n = len(rows)
    print(f"pool ({args.workers} workers): {sum(g.correct for g in grades)}/{n} correct, {n / pool_s:.1f} answers/s")
    print(f"sequential math-verify:   {sum(plain)}/{n} correct, {n / plain_s:.1f} answers/s")
    print(f"speed ratio pool / sequential: {plain_s / pool_s:.2f}x")
    for row, grade in zip(rows, grades, strict=True):
        if not grade.correct:
            print(
                f"  miss {row['unique_id']}: gold {row['answer']!r}, extracted {grade.extracted!r}: "
                f"{grade.reason.value} {grade.detail}"
            )


if __name__ == "__main__":
    main()
