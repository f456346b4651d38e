"""Self-correction metrics exactly as the paper defines them (docs/paper.md, "Metrics"), with bootstrap CIs.

Every fraction is over ALL episodes. With ``t_last`` the final attempt (t2 in the paper's two-attempt setting):
Acc@t = fraction correct at attempt t; Δ = Acc@t_last − Acc@t1; Δi→c = wrong at t1 and right at t_last;
Δc→i = right at t1 and wrong at t_last. Hence Δ = Δi→c − Δc→i. Confidence intervals resample *problems* (the k
samples of a problem are not independent), with replacement, ``n_bootstrap`` times: percentile 95% interval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from score_env.records import Episode


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap 95% confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class SelfCorrectionReport:
    """What ``score-env eval`` prints and writes to ``metrics.json``."""

    episodes: int
    problems: int
    attempts: int
    estimates: dict[str, Estimate]  # name -> estimate, in display order
    counts: dict[str, int]  # exact integer counts behind the fractions (n_i_to_c, n_c_to_i, correct@t...)
    reasons: dict[str, dict[str, int]]  # attempt ("t1", ...) -> grade reason -> count
    edit_ratios: tuple[float, ...] = ()  # [E] per episode, first vs last attempt (the histogram's data)


def edit_distance_ratio(y1: str, y2: str) -> float:
    """Insert/delete edit distance between two responses over their total length, in [0, 1] (0 = unchanged)."""
    return Indel.normalized_distance(y1, y2)


def self_correction_metrics(
    episodes: Sequence[Episode], *, n_bootstrap: int = 1000, seed: int = 0
) -> SelfCorrectionReport:
    """Acc@t per attempt, Δ, Δi→c, Δc→i, edit-distance ratio, answer-changed rate and mean lengths."""
    if not episodes:
        raise ValueError("no episodes to compute metrics over")
    n_attempts = {len(e.attempts) for e in episodes}
    if len(n_attempts) != 1 or min(n_attempts) < 1:
        raise ValueError(f"every episode must have the same number (>= 1) of attempts, got {sorted(n_attempts)}")
    per_episode = _per_episode_statistics(episodes)
    groups = [e.problem_id for e in episodes]
    estimates = _bootstrap(per_episode, groups, n_bootstrap, seed)
    correct = per_episode_correct(episodes)  # [E, A]
    first, last = correct[:, 0], correct[:, -1]
    counts = {f"correct_t{t + 1}": int(correct[:, t].sum()) for t in range(correct.shape[1])}
    counts |= {"n_i_to_c": int((~first & last).sum()), "n_c_to_i": int((first & ~last).sum())}
    reasons = {
        f"t{t + 1}": dict(Counter(e.attempts[t].grade.reason.value for e in episodes)) for t in range(correct.shape[1])
    }
    edit_ratios = tuple(round(float(r), 4) for r in per_episode["edit_distance_ratio"])
    return SelfCorrectionReport(
        len(episodes), len(set(groups)), correct.shape[1], estimates, counts, reasons, edit_ratios
    )


def per_episode_correct(episodes: Sequence[Episode]) -> np.ndarray:
    """[E, A] bool: whether attempt t of episode e was correct."""
    return np.array([[a.grade.correct for a in e.attempts] for e in episodes], dtype=bool)


def _per_episode_statistics(episodes: Sequence[Episode]) -> dict[str, np.ndarray]:
    correct = per_episode_correct(episodes)  # [E, A]
    first, last = correct[:, 0], correct[:, -1]
    stats: dict[str, np.ndarray] = {f"acc@t{t + 1}": correct[:, t] for t in range(correct.shape[1])}
    stats["delta"] = last.astype(float) - first.astype(float)
    stats["delta_i_to_c"] = ~first & last
    stats["delta_c_to_i"] = first & ~last
    stats["edit_distance_ratio"] = np.array(
        [edit_distance_ratio(e.attempts[0].text, e.attempts[-1].text) for e in episodes]
    )
    stats["answer_changed"] = np.array(
        [e.attempts[0].grade.extracted != e.attempts[-1].grade.extracted for e in episodes]
    )
    for t in range(correct.shape[1]):
        stats[f"tokens@t{t + 1}"] = np.array([len(e.attempts[t].token_ids) for e in episodes], dtype=float)
    return {name: np.asarray(values, dtype=float) for name, values in stats.items()}


def _bootstrap(stats: dict[str, np.ndarray], groups: list[str], n_bootstrap: int, seed: int) -> dict[str, Estimate]:
    names = list(stats)
    matrix = np.stack([stats[n] for n in names], axis=1)  # [E, M]
    # Average within each problem, then resample problems. Every problem has the same number of episodes, so
    # the mean of problem means is the mean over all episodes.
    _, group_of = np.unique(groups, return_inverse=True)
    n_groups = int(group_of.max()) + 1
    per_problem = np.zeros((n_groups, matrix.shape[1]))
    np.add.at(per_problem, group_of, matrix)
    per_problem /= np.bincount(group_of, minlength=n_groups)[:, None]  # [P, M]
    rng = np.random.default_rng(seed)
    resampled = per_problem[rng.integers(0, n_groups, size=(n_bootstrap, n_groups))].mean(axis=1)  # [B, M]
    low, high = np.percentile(resampled, [2.5, 97.5], axis=0)
    point = matrix.mean(axis=0)
    return {n: Estimate(float(point[i]), float(low[i]), float(high[i])) for i, n in enumerate(names)}
