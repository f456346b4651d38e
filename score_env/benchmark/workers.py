"""Methods side by side: a benchmark's (seed, method) runs spread over worker processes (``workers``).

A method's training is on-policy (each update samples from the policy the previous update left), so within one run
sampling cannot overlap the learner without changing the algorithm; the runs of a benchmark, though, are independent
of each other once the base model's first attempts are recorded. Each worker gets ``cores / workers`` torch threads.
On the 2-core reference machine this measured no gain over one process with torch's 2 threads (0.97x on the main
job; ``benchmarks/speed/threads.py`` and the README give the per-phase figures), hence ``workers=1`` by default; it
is there for machines with more cores than a small model's tensor ops can use.

A run computes the same in a worker as in the main process: its seeds are its own and it reads and writes only its
own directory; only torch's thread count differs, which changes no token of the embedded benchmark (tested). Workers
are spawned (not forked: torch's thread pools do not survive a fork), import what the command imported (the user's
task modules), and each draws its progress bars on its own terminal line. The runs likely to take longest start
first (:func:`expected_work`); outcomes come back in the order of the runs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from score_env import runs
from score_env.benchmark.method import BaseAttempts, Outcome, Wiring, run_method
from score_env.config import AgentConfig, BenchmarkConfig


@dataclass(frozen=True)
class Run:
    """One (seed, method) of a benchmark and where it lives."""

    seed: int
    name: str
    directory: Path


def cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan_workers(config: BenchmarkConfig, n_runs: int) -> tuple[int, int]:
    """(worker processes, torch threads per worker): ``config.workers`` (0 = one per core on CPU, one on a GPU,
    never more than the runs), the cores shared evenly among them."""
    if config.workers:
        workers = config.workers
    elif config.policy.device.startswith("cuda"):
        workers = 1
    else:
        workers = cores()
    workers = max(1, min(workers, n_runs))
    return workers, max(1, cores() // workers)


def run_all(
    runs: Sequence[Run],
    config: BenchmarkConfig,
    wiring: Wiring,
    problems: list[int],
    fixed: BaseAttempts | None,
    console: Any,
) -> list[Outcome]:
    """Every run's outcome, in order: in this process when one worker is planned, else in a pool of workers (each
    starts with ``wiring.prepare()``, which imports what the command imported)."""
    workers, threads = plan_workers(config, len(runs))
    if workers == 1:
        return [
            _announce_and_run(i, run, len(runs), config, wiring, problems, fixed, console) for i, run in enumerate(runs)
        ]
    console.print(f"{len(runs)} runs on {workers} worker processes ({threads} torch thread{'s' * (threads > 1)} each)")
    order = sorted(range(len(runs)), key=lambda i: -expected_work(wiring.agent_config(runs[i].name)))
    context = multiprocessing.get_context("spawn")
    positions = context.Queue()
    for position in range(workers):
        positions.put(position)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start, initargs=(wiring.prepare, threads, positions)
    ) as pool:
        futures = {
            i: pool.submit(_announce_and_run, i, runs[i], len(runs), config, wiring, problems, fixed, None)
            for i in order
        }
        try:
            return [futures[i].result() for i in range(len(runs))]
        except BrokenProcessPool:
            raise RuntimeError(
                "a benchmark worker process died (killed: out of memory?); the runs it finished are kept: rerun the "
                "same command to continue, with workers=1 to run them one at a time in this process"
            ) from None


def expected_work(agent: AgentConfig) -> int:
    """A guess of a run's relative cost, to start the longest first (the pool finishes sooner): a method that is
    not trained costs least; multi-turn RL, which samples and trains on every attempt, most."""
    if not agent.trains:
        return 0
    return 2 if getattr(agent, "multi_turn", False) else 1


def _start(prepare: Callable[[], None] | None, threads: int, positions: Any) -> None:
    import torch

    torch.set_num_threads(threads)
    runs.BAR_LINE = positions.get()
    if prepare is not None:
        prepare()


def _announce_and_run(
    index: int,
    run: Run,
    total: int,
    config: BenchmarkConfig,
    wiring: Wiring,
    problems: list[int],
    fixed: BaseAttempts | None,
    console: Any,
) -> Outcome:
    if console is None:
        from rich.console import Console

        console = Console()
    console.rule(f"{index + 1}/{total}: {run.name}, seed {run.seed}")
    return run_method(run.name, config, run.seed, wiring, problems, run.directory, console, fixed)
