"""Paired significance tests for comparing correction methods on the same problems, with Holm correction and MDDs.

Every method is run on the same problems with the same seeds, so outcomes come as arrays shaped [seeds, problems]
and two methods are compared *paired*: per problem (a problem's difficulty cancels) and per seed (seed s of one
method with seed s of the other). A difference is reported as holding when its Holm-adjusted p-value is below alpha
and every seed agrees on its sign. The minimum detectable difference (MDD) says how large a difference a column of n
problems could detect at all, so that "no significant difference" is not read as "no difference".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class Comparison:
    """mean(x) − mean(y) with a percentile 95% bootstrap interval, two-sided p and the per-seed differences."""

    difference: float
    low: float
    high: float
    p: float
    per_seed: tuple[float, ...]


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: b pairs where only the first method succeeded, c where only the second did."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return float(sps.binomtest(int(b), int(b + c), 0.5).pvalue)


def _as_pair(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float [seeds, problems] (a 1-D array is one seed), checked to have the same non-empty shape."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a, b = (np.atleast_2d(v) for v in (a, b))
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"x and y must both be [seeds, problems] with the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("x and y must hold at least one seed and one problem")
    return a, b


def _counts(rng: np.random.Generator, n_boot: int, n: int) -> np.ndarray:
    """How often each of n items is drawn in each of n_boot resamples with replacement: [n_boot, n]."""
    idx = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def _bootstrap(d: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """n_boot resampled means of the paired differences d [seeds, problems]: seeds, then problems, with replacement.

    The resampled problem indices are shared by every seed (and, through d, by both methods). The mean of a resample
    is sum_s sum_p seed_count[s] * d[s, p] * problem_count[p] / (seeds * problems), a product of count matrices.
    """
    n_seeds, n_problems = d.shape
    rng = np.random.default_rng(seed)
    seed_counts = _counts(rng, n_boot, n_seeds) if n_seeds > 1 else np.ones((n_boot, 1))
    problem_counts = _counts(rng, n_boot, n_problems)
    per_seed_sums = problem_counts @ d.T  # [n_boot, seeds]
    return (per_seed_sums * seed_counts).sum(axis=1) / (n_seeds * n_problems)


def _bootstrap_p(difference: float, boot: np.ndarray) -> float:
    """Two-sided p-value of a zero difference from the bootstrap's standard error (a normal approximation): unlike
    counting resamples past zero it has no floor at 1 / n_boot, which Holm over many comparisons would need."""
    se = float(boot.std(ddof=1)) if boot.size > 1 else 0.0
    if se == 0.0:
        return 1.0 if difference == 0 else 0.0
    return float(min(1.0, 2 * sps.norm.sf(abs(difference) / se)))


def paired_bootstrap(x: object, y: object, *, n_boot: int = 2000, seed: int = 0) -> Comparison:
    """Paired bootstrap of mean(x) − mean(y) for arrays [seeds, problems] of the same problems and seeds.

    Resamples seeds with replacement, then problems with replacement (the same problem indices for every seed and both
    methods, so the pairing is kept); with one seed only problems are resampled. Deterministic given ``seed``.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    a, b = _as_pair(x, y)
    d = a - b
    boot = _bootstrap(d, n_boot, seed)
    low, high = np.percentile(boot, [2.5, 97.5])
    return Comparison(
        difference=float(d.mean()),
        low=float(low),
        high=float(high),
        p=_bootstrap_p(float(d.mean()), boot),
        per_seed=tuple(float(v) for v in d.mean(axis=1)),
    )


def paired_binary(x: object, y: object, *, n_boot: int = 2000, seed: int = 0) -> Comparison:
    """``paired_bootstrap`` for 0/1 outcomes, with p an exact test with problems as the units: each problem's
    difference averaged over seeds, and the exact sign test on the problems where it is not zero (with one seed,
    exactly McNemar's test). Seeds of one problem are not independent pairs: pooling them would inflate n."""
    a, b = _as_pair(x, y)
    if not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        raise ValueError("paired_binary needs 0/1 outcomes")
    boot = paired_bootstrap(a, b, n_boot=n_boot, seed=seed)
    per_problem = (a - b).mean(axis=0)
    return Comparison(boot.difference, boot.low, boot.high, sign_test(per_problem), boot.per_seed)


def sign_test(differences: object) -> float:
    """Exact two-sided sign test of per-unit differences (zeros dropped): McNemar's test for 0/1 pairs."""
    d = np.asarray(differences, dtype=float)
    return mcnemar_exact(int((d > 0).sum()), int((d < 0).sum()))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (monotone step-down, capped at 1)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return [float(v) for v in adjusted]


def holds(comparison: Comparison, adjusted_p: float, alpha: float = 0.05) -> bool:
    """Whether a difference holds: adjusted p below alpha and every seed's difference strictly of the pooled sign.

    With one seed only the test counts.
    """
    if not adjusted_p < alpha:
        return False
    if len(comparison.per_seed) <= 1:
        return True
    sign = np.sign(comparison.difference)
    return bool(sign != 0 and all(np.sign(v) == sign for v in comparison.per_seed))


def mdd_paired(sd_of_differences: float, n: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable paired mean difference over n problems: (z_{1-alpha/2} + z_power) * sd / sqrt(n)."""
    if n <= 0:
        return math.inf
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    return float(z * sd_of_differences / math.sqrt(n))


def mdd_paired_binary(discordance: float, n: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable paired difference of proportions: ``mdd_paired`` with sd = sqrt(discordance).

    ``discordance`` is the share of problems where the two methods differ; a conservative approximation of McNemar's
    power (the sd of the per-problem difference is at most sqrt(discordance)).
    """
    return mdd_paired(math.sqrt(discordance), n, alpha=alpha, power=power)
