"""Run the benchmark: every method of ``methods``, for every seed of ``seeds``, under one protocol.

The loop knows no method's internals: each agent config maps the budget onto its own keys, and every method goes
through the same training setup and the same evaluation (``benchmark.method``). Outcomes are written as they
finish (``seed-<s>/<method>/result.json``); a rerun with the same report directory keeps them.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from score_env.benchmark.method import Outcome, Wiring, run_method
from score_env.config import BenchmarkConfig
from score_env.runs import open_run_dir


def run_benchmark(config: BenchmarkConfig, wiring: Wiring, report_dir: Path, console: Console) -> tuple[Outcome, ...]:
    open_run_dir(report_dir, config.model_dump(mode="json", by_alias=True, exclude={"report_dir"}))
    problems = evaluated_problems(config, wiring)
    outcomes = []
    runs = [(seed, name) for seed in config.seeds for name in config.methods]
    for position, (seed, name) in enumerate(runs, 1):
        console.rule(f"{position}/{len(runs)}: {name}, seed {seed}")
        outcomes.append(run_method(name, config, seed, wiring, problems, method_dir(report_dir, seed, name), console))
    return tuple(outcomes)


def evaluated_problems(config: BenchmarkConfig, wiring: Wiring) -> list[int]:
    n = wiring.eval_env.n_problems
    return list(range(min(config.eval_problems or n, n)))


def method_dir(report_dir: Path, seed: int, name: str) -> Path:
    return report_dir / f"seed-{seed}" / name
