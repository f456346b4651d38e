"""Which differences between methods hold: per-problem paired tests, combined with the seed spread, Holm-corrected
over every comparison the report makes, and the minimum detectable difference (MDD) of each headline column.

A column is a per-problem outcome of a method ([seeds, problems], each seed's problems in the same order):

- ``fix`` / ``break``: attempt 2 after the base model's greedy first attempts, on those that were wrong / right
  (an exact sign test on the problems whose outcome, averaged over seeds, differs: McNemar's test with one seed);
- ``fix - control``: the fix rate minus the method's own fresh first attempt on the same problems (paired bootstrap);
- ``delta`` and ``acc@final``: on the method's own attempts (paired bootstrap over seeds, then problems; p from its
  standard error).

The comparisons: every trained method against the base model (prompting), and SCoRe against every other method. A
difference *holds* when its Holm-adjusted p-value is below 0.05 and every seed's difference has its sign.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from score_env.benchmark.results import MethodResult
from score_env.metrics import Estimate
from score_env.stats import Comparison, holds, holm, mdd_paired, mdd_paired_binary, paired_binary, paired_bootstrap

HEADLINE = ("fix", "break", "fix_minus_control", "delta", "acc@final")
BINARY = frozenset({"fix", "break"})  # exact sign test per problem (McNemar); the others: paired bootstrap
OWN = frozenset({"acc@t1", "acc@final", "delta", "delta_i_to_c", "delta_c_to_i"})  # on the method's own attempts
FIXED = frozenset({"fix", "break", "control", "fix_minus_control"})  # on the base model's first attempts
PAPER_METHOD = "score"  # the method the paper is about: compared with every other method too

Table = dict[str, dict[int, MethodResult]]  # method -> seed -> result


@dataclass(frozen=True)
class Test:
    method: str
    other: str
    metric: str
    comparison: Comparison
    adjusted_p: float
    holds: bool


def column(runs: dict[int, MethodResult], metric: str, seeds: Sequence[int] | None = None) -> np.ndarray | None:
    """[seeds, problems] per-problem values of ``metric`` (None when a seed lacks them)."""
    rows = []
    for seed in seeds if seeds is not None else sorted(runs):
        run = runs[seed]
        own, fixed = run.own, run.fixed
        if metric in OWN:
            if own is None:
                return None
            first, final = np.array(own.first), np.array(own.final)
            i_to_c, c_to_i = np.array(own.i_to_c), np.array(own.c_to_i)
            by_name = {"delta": final - first, "acc@final": final, "acc@t1": first}
            rows.append((by_name | {"delta_i_to_c": i_to_c, "delta_c_to_i": c_to_i})[metric])
            continue
        if metric not in FIXED:
            return None
        if fixed is None:
            return None
        wrong = ~np.array(fixed.first_right)
        second = np.array(fixed.second_right)
        values = {
            "fix": second[wrong],
            "break": 1.0 - second[~wrong],
            "control": np.array(fixed.own_first_right)[wrong],
            "fix_minus_control": second[wrong] - np.array(fixed.own_first_right)[wrong],
        }[metric]
        rows.append(values)
    return np.array(rows) if rows and len({len(r) for r in rows}) == 1 else None


def pooled_estimate(runs: dict[int, MethodResult], metric: str, n_boot: int = 2000) -> Estimate | None:
    """The mean over seeds and problems with its 95% interval (resampling seeds, then problems)."""
    values = column(runs, metric)
    if values is None or values.size == 0:
        return None
    c = paired_bootstrap(values, np.zeros_like(values), n_boot=n_boot)
    return Estimate(c.difference, c.low, c.high)


def comparisons(table: Table, methods: Sequence[str], n_boot: int = 2000) -> list[Test]:
    """Every comparison the report makes, each with its Holm-adjusted p over all of them."""
    raw: list[tuple[str, str, str, Comparison]] = []
    for method, other in pairs(methods):
        seeds = sorted(table.get(method, {}).keys() & table.get(other, {}).keys())
        if not seeds:  # one of them failed or has not run: nothing to compare
            continue
        for metric in HEADLINE:
            x, y = column(table[method], metric, seeds), column(table[other], metric, seeds)
            if x is None or y is None or x.shape != y.shape or x.size == 0:
                continue
            test = paired_binary if metric in BINARY and _binary(x) and _binary(y) else paired_bootstrap
            raw.append((method, other, metric, test(x, y, n_boot=n_boot)))
    adjusted = holm([c.p for *_, c in raw])
    return [Test(m, o, k, c, p, holds(c, p)) for (m, o, k, c), p in zip(raw, adjusted, strict=True)]


def pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """Trained methods against the base model (the first method: the benchmark checks it trains nothing), then SCoRe
    against every other method (each pair once)."""
    found: list[tuple[str, str]] = []
    for reference in (methods[0], PAPER_METHOD) if methods else ():
        if reference not in methods:
            continue
        for method in methods:
            if method != reference and (reference, method) not in found and (method, reference) not in found:
                found.append((method, reference))
    return found


def minimum_detectable(tests: Sequence[Test], table: Table) -> dict[str, tuple[int, float]]:
    """Per headline column: its n (problems) and the MDD of a paired difference at 80% power, two-sided 5% (before
    Holm), from the median spread of the per-problem differences over the comparisons made."""
    found: dict[str, tuple[int, float]] = {}
    for metric in HEADLINE:
        spreads, n = [], 0
        for t in (t for t in tests if t.metric == metric):
            seeds = sorted(table[t.method].keys() & table[t.other].keys())
            x, y = column(table[t.method], metric, seeds), column(table[t.other], metric, seeds)
            if x is None or y is None:
                continue
            diff = (x - y).mean(axis=0)  # per problem, over seeds
            n = diff.size
            spreads.append(float(np.mean(diff != 0)) if metric in BINARY else float(np.std(diff, ddof=1)))
        if spreads and n:
            middle = statistics.median(spreads)
            found[metric] = (n, mdd_paired_binary(middle, n) if metric in BINARY else mdd_paired(middle, n))
    return found


def _binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())
