"""Across seeds: each method's results by seed, and a metric's values over the seeds with their mean and spread; the
facts of a run shown beside its metrics. (Which differences between methods hold is ``compare``'s: paired per
problem, with the seed spread.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.metrics import SelfCorrectionReport


@dataclass(frozen=True)
class Spread:
    """A metric of one method over seeds."""

    values: tuple[float, ...]  # one per seed, in seed order

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float:
        """The sample standard deviation (0 with one seed)."""
        n = len(self.values)
        return math.sqrt(sum((v - self.mean) ** 2 for v in self.values) / (n - 1)) if n > 1 else 0.0


def metric_of(outcome: MethodResult, metric: str) -> float:
    return outcome.report.estimates[metric].value


def by_method(outcomes: Sequence[MethodResult | MethodFailure]) -> dict[str, dict[int, MethodResult]]:
    """Finished outcomes by method, then by seed."""
    table: dict[str, dict[int, MethodResult]] = {}
    for outcome in outcomes:
        if isinstance(outcome, MethodResult):
            table.setdefault(outcome.name, {})[outcome.seed] = outcome
    return table


def spread(runs: dict[int, MethodResult], metric: str) -> Spread:
    return Spread(tuple(metric_of(runs[s], metric) for s in sorted(runs)))


def run_facts(report: SelfCorrectionReport, run: MethodResult | None = None) -> dict[str, float]:
    """The metric catalogue's ``FACTS`` of a run: its evaluation's episodes and attempts graded ``error`` (verdicts
    too), and for a benchmark method its learning rate (prompting has none), updates and training episodes."""
    errors = sum(n for by_reason in report.reasons.values() for reason, n in by_reason.items() if reason == "error")
    facts: dict[str, float] = {"eval_episodes": report.episodes, "errors": errors}
    if run is not None:
        facts |= {"updates": run.updates, "train_episodes": run.episodes_sampled}
        facts |= {"lr": run.lr} if run.lr is not None else {}
    return facts
