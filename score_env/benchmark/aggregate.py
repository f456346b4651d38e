"""Across seeds: each method's mean and spread, and which differences between methods hold across seeds.

A difference between two methods on a metric *holds across seeds* when its 95% interval over the seeds (a paired
t interval: the two methods share each seed's problems and training draws) excludes zero. With one seed nothing
can be said, and nothing is marked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from score_env.benchmark.results import MethodFailure, MethodResult

# Two-sided 95% quantiles of Student's t by degrees of freedom (n seeds - 1).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


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


@dataclass(frozen=True)
class Difference:
    """``method`` minus ``other`` on ``metric``, seed by seed, with its 95% interval over the seeds."""

    method: str
    other: str
    metric: str
    spread: Spread
    low: float
    high: float

    @property
    def holds(self) -> bool | None:
        """Whether the interval excludes zero (None with fewer than two seeds)."""
        if len(self.spread.values) < 2:
            return None
        return self.low > 0 or self.high < 0


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


def difference(table: dict[str, dict[int, MethodResult]], method: str, other: str, metric: str) -> Difference | None:
    """The paired difference over the seeds both methods finished (None if they share none)."""
    seeds = sorted(table.get(method, {}).keys() & table.get(other, {}).keys())
    if not seeds:
        return None
    values = tuple(metric_of(table[method][s], metric) - metric_of(table[other][s], metric) for s in seeds)
    diff = Spread(values)
    half = T95.get(len(seeds) - 1, 1.96) * diff.std / math.sqrt(len(seeds)) if len(seeds) > 1 else math.inf
    return Difference(method, other, metric, diff, diff.mean - half, diff.mean + half)
