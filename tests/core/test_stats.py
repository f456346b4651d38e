"""Paired tests, Holm correction and MDDs of score_env.stats against hand-computed values."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from score_env.stats import (
    Comparison,
    holds,
    holm,
    mcnemar_exact,
    mdd_paired,
    mdd_paired_binary,
    paired_binary,
    paired_bootstrap,
)


def test_mcnemar_matches_the_binomial_by_hand() -> None:
    # 2 * P(Binom(12, 1/2) <= 2) = 2 * (1 + 12 + 66) / 4096
    assert mcnemar_exact(10, 2) == pytest.approx(2 * 79 / 4096)
    assert mcnemar_exact(2, 10) == pytest.approx(0.0385742, abs=1e-6)
    assert mcnemar_exact(5, 5) == pytest.approx(1.0)


def test_mcnemar_without_discordant_pairs_is_one() -> None:
    assert mcnemar_exact(0, 0) == 1.0


def test_identical_methods_differ_by_nothing() -> None:
    x = np.random.default_rng(1).normal(size=(3, 50))
    result = paired_bootstrap(x, x.copy())
    assert result.difference == 0.0
    assert result.low <= 0.0 <= result.high
    assert result.p == pytest.approx(1.0)
    assert result.per_seed == (0.0, 0.0, 0.0)


def test_a_clear_shift_is_significant() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=(3, 200))
    x = y + 0.3 + rng.normal(scale=0.2, size=y.shape)
    result = paired_bootstrap(x, y)
    assert result.difference == pytest.approx(0.3, abs=0.05)
    assert result.p < 0.01
    assert result.low > 0.0
    assert result.low < result.difference < result.high


def test_pairing_keeps_a_small_shift_under_large_problem_variance_significant() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(scale=10.0, size=(2, 300))
    x = y + 0.05
    paired = paired_bootstrap(x, y)
    assert paired.p < 0.01
    assert paired.low > 0.0
    # The same outcomes with the pairing broken (problems of y shuffled): the shift drowns in the problem variance.
    unpaired = paired_bootstrap(x, y[:, rng.permutation(300)])
    assert unpaired.p > 0.05
    assert unpaired.low < 0.0 < unpaired.high


def test_per_seed_differences_are_the_seed_by_seed_difference_of_means() -> None:
    x = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    y = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]])
    result = paired_bootstrap(x, y, n_boot=200)
    assert result.per_seed == pytest.approx((0.5, -0.25))
    assert result.difference == pytest.approx(0.125)


def test_one_seed_resamples_problems_only() -> None:
    result = paired_bootstrap(np.full(40, 0.5), np.zeros(40), n_boot=300)
    assert result.per_seed == (0.5,)
    assert (result.difference, result.low, result.high) == pytest.approx((0.5, 0.5, 0.5))
    assert result.p == 0.0  # no spread at all around a non-zero difference


def test_the_bootstrap_p_has_no_floor_at_one_over_n_boot() -> None:
    """Holm over many comparisons needs p-values below 1 / n_boot: a normal approximation from the bootstrap's
    standard error gives them."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=(1, 300))
    result = paired_bootstrap(y + 0.5, y + rng.normal(scale=0.5, size=(1, 300)), n_boot=200)
    assert 0 < result.p < 1 / 1000


def test_paired_binary_tests_problems_not_seed_problem_pairs() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, size=(3, 100))
    y = rng.integers(0, 2, size=(3, 100))
    result = paired_binary(x, y, n_boot=500, seed=7)
    d = (x - y).mean(axis=0)  # per problem, over seeds: the sign test counts problems
    assert result.p == pytest.approx(mcnemar_exact(int((d > 0).sum()), int((d < 0).sum())))
    one = paired_binary(x[:1], y[:1], n_boot=50)  # one seed: exactly McNemar
    b, c = int(((x[0] == 1) & (y[0] == 0)).sum()), int(((x[0] == 0) & (y[0] == 1)).sum())
    assert one.p == pytest.approx(mcnemar_exact(b, c))
    # three identical seeds say no more than one: the same p (pooling seed-problem pairs would shrink it)
    assert paired_binary(np.repeat(x[:1], 3, axis=0), np.repeat(y[:1], 3, axis=0), n_boot=50).p == pytest.approx(one.p)
    boot = paired_bootstrap(x, y, n_boot=500, seed=7)
    assert (result.difference, result.low, result.high, result.per_seed) == (
        boot.difference,
        boot.low,
        boot.high,
        boot.per_seed,
    )
    with pytest.raises(ValueError, match="0/1"):
        paired_binary(x * 2, y)


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="same shape"):
        paired_bootstrap(np.zeros((2, 10)), np.zeros((2, 11)))


def test_holm_by_hand_in_input_order() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_holm_is_monotone_in_the_raw_order_and_never_below_the_raw_p() -> None:
    p = np.random.default_rng(5).uniform(0, 0.2, size=12)
    adjusted = np.array(holm(p))
    order = np.argsort(p)
    assert np.all(np.diff(adjusted[order]) >= 0)
    assert np.all(adjusted >= p)
    assert np.all(adjusted <= 1.0)


def test_holds_needs_the_test_and_the_sign_of_every_seed() -> None:
    agree = Comparison(difference=0.1, low=0.05, high=0.15, p=0.001, per_seed=(0.08, 0.1, 0.12))
    assert holds(agree, 0.01)
    assert not holds(agree, 0.05)
    disagree = Comparison(difference=0.1, low=0.05, high=0.15, p=0.001, per_seed=(0.2, 0.12, -0.02))
    assert not holds(disagree, 0.01)
    tie = Comparison(difference=-0.1, low=-0.15, high=-0.05, p=0.001, per_seed=(-0.2, 0.0))
    assert not holds(tie, 0.01)
    one_seed = Comparison(difference=-0.1, low=-0.15, high=-0.05, p=0.001, per_seed=(-0.1,))
    assert holds(one_seed, 0.01)
    with pytest.raises(FrozenInstanceError):
        agree.p = 0.5  # type: ignore[misc]


def test_mdd_matches_the_formula() -> None:
    assert mdd_paired(1.0, 100) == pytest.approx((1.959964 + 0.841621) / 10, abs=1e-6)
    assert mdd_paired(1.0, 100) == pytest.approx(0.2802, abs=1e-4)
    assert mdd_paired(2.0, 400, alpha=0.01, power=0.9) == pytest.approx((2.575829 + 1.281552) * 2 / 20, abs=1e-6)
    assert mdd_paired_binary(0.25, 100) == pytest.approx(mdd_paired(0.5, 100))
    assert mdd_paired(1.0, 0) == math.inf
    assert mdd_paired_binary(0.3, 0) == math.inf


def test_deterministic_given_a_seed() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(4, 80)), rng.normal(size=(4, 80))
    assert paired_bootstrap(x, y, seed=11) == paired_bootstrap(x, y, seed=11)
    assert paired_bootstrap(x, y, seed=11) != paired_bootstrap(x, y, seed=12)
