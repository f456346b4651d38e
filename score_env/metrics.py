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
    episodes: Sequence[Episode], *, attempts: int = 1, n_bootstrap: int = 1000, seed: int = 0
) -> SelfCorrectionReport:
    """Acc@t per attempt, Δ, Δi→c, Δc→i, edit-distance ratio, answer-changed rate and mean lengths; for episodes of
    different lengths (a model-decided or oracle stop) also Acc@final and the mean number of attempts, and for
    episodes with self-verdicts the verdict accuracy and its recall on right and on wrong attempts.

    Acc@t of an episode that ended before attempt t is its final answer's (an episode that stopped is judged by the
    answer it stopped on), so Acc@t_max = Acc@final and every fraction stays over all problems. ``attempts`` is the
    most the episodes were allowed (Acc@t runs up to it even when every episode stopped earlier).
    """
    if not episodes:
        raise ValueError("no episodes to compute metrics over")
    if min(len(e.attempts) for e in episodes) < 1:
        raise ValueError("every episode must have at least one attempt")
    correct = per_episode_correct(episodes, attempts)  # [E, T_max], carried forward
    ratios = _per_episode_ratios(episodes, correct)
    groups = [e.problem_id for e in episodes]
    estimates = _bootstrap(ratios, groups, n_bootstrap, seed)
    first, last = correct[:, 0], correct[:, -1]
    counts = {f"correct_t{t + 1}": int(correct[:, t].sum()) for t in range(correct.shape[1])}
    counts |= {"n_i_to_c": int((~first & last).sum()), "n_c_to_i": int((first & ~last).sum())}
    counts |= {  # attempts cut at max_new_tokens: a budget too small hides what the model would have written
        f"cut_t{t + 1}": sum(len(e.attempts) > t and e.attempts[t].finish_reason == "length" for e in episodes)
        for t in range(correct.shape[1])
    }
    longest = correct.shape[1]
    reasons = {
        f"t{t + 1}": dict(Counter(e.attempts[t].grade.reason.value for e in episodes if len(e.attempts) > t))
        for t in range(longest)
    }
    if any(e.verdicts for e in episodes):
        reasons["verdicts"] = dict(Counter(v.grade.reason.value for e in episodes for v in e.verdicts))
    edit_ratios = tuple(round(edit_distance_ratio(e.attempts[0].text, e.attempts[-1].text), 4) for e in episodes)
    return SelfCorrectionReport(len(episodes), len(set(groups)), longest, estimates, counts, reasons, edit_ratios)


def per_episode_correct(episodes: Sequence[Episode], attempts: int = 1) -> np.ndarray:
    """[E, T_max] bool: whether the answer standing at attempt t was correct (an episode that ended earlier keeps
    its final answer); T_max is the longest episode's length, or ``attempts`` if more."""
    longest = max(attempts, *(len(e.attempts) for e in episodes))
    return np.array(
        [[e.attempts[min(t, len(e.attempts) - 1)].grade.correct for t in range(longest)] for e in episodes], dtype=bool
    )


Ratio = tuple[np.ndarray, np.ndarray]  # per episode: numerator and denominator (1 for a plain mean)


def _per_episode_ratios(episodes: Sequence[Episode], correct: np.ndarray) -> dict[str, Ratio]:
    """``correct``: [E, T] from ``per_episode_correct``."""
    first, last = correct[:, 0], correct[:, -1]
    ones = np.ones(len(episodes))
    stats: dict[str, np.ndarray] = {f"acc@t{t + 1}": correct[:, t] for t in range(correct.shape[1])}
    stats["acc@final"] = last
    stats["attempts"] = np.array([len(e.attempts) for e in episodes])
    stats["delta"] = last.astype(float) - first.astype(float)
    stats["delta_i_to_c"] = ~first & last
    stats["delta_c_to_i"] = first & ~last
    stats["edit_distance_ratio"] = np.array(
        [edit_distance_ratio(e.attempts[0].text, e.attempts[-1].text) for e in episodes]
    )
    stats["answer_changed"] = np.array(
        [e.attempts[0].grade.extracted != e.attempts[-1].grade.extracted for e in episodes]
    )
    ratios = {name: (np.asarray(values, dtype=float), ones) for name, values in stats.items()}
    for t in range(correct.shape[1]):  # mean length of attempt t over the episodes that made it (if any did)
        made = np.array([len(e.attempts) > t for e in episodes], dtype=float)
        tokens = np.array([len(e.attempts[t].token_ids) if len(e.attempts) > t else 0 for e in episodes], dtype=float)
        if made.any():
            ratios[f"tokens@t{t + 1}"] = (tokens, made)
    if any(e.verdicts for e in episodes):
        ratios |= _verdict_ratios(episodes)
    return ratios


def _verdict_ratios(episodes: Sequence[Episode]) -> dict[str, Ratio]:
    """Self-verdicts (PAG's verifier metrics): accuracy, and recall on right attempts (said "correct") and on wrong
    ones (said "wrong", or unparsable, which the env treats as wrong)."""
    right_said = [(sum(v.grade.correct for v in e.verdicts), len(e.verdicts)) for e in episodes]
    on_right = [_recall(e, judged_right=True) for e in episodes]
    on_wrong = [_recall(e, judged_right=False) for e in episodes]
    return {
        name: (np.array([n for n, _ in pairs], dtype=float), np.array([d for _, d in pairs], dtype=float))
        for name, pairs in (("verdict_accuracy", right_said), ("verdict_recall_right", on_right),
                            ("verdict_recall_wrong", on_wrong))
    }  # fmt: skip


def _recall(episode: Episode, judged_right: bool) -> tuple[int, int]:
    """(verdicts that were right, verdicts) among the verdicts on attempts that were right (or wrong)."""
    pairs = [(v, episode.attempts[i]) for i, v in enumerate(episode.verdicts) if i < len(episode.attempts)]
    judged = [v for v, a in pairs if a.grade.correct == judged_right]
    return sum(v.grade.correct for v in judged), len(judged)


def _bootstrap(ratios: dict[str, Ratio], groups: list[str], n_bootstrap: int, seed: int) -> dict[str, Estimate]:
    """Each metric as a ratio of sums (a plain mean when the denominators are 1), with a percentile interval that
    resamples problems (the k samples of a problem are not independent)."""
    names = list(ratios)
    numerators = np.stack([ratios[n][0] for n in names], axis=1)  # [E, M]
    denominators = np.stack([ratios[n][1] for n in names], axis=1)  # [E, M]
    _, group_of = np.unique(groups, return_inverse=True)
    n_groups = int(group_of.max()) + 1
    num = np.zeros((n_groups, len(names)))
    den = np.zeros((n_groups, len(names)))
    np.add.at(num, group_of, numerators)
    np.add.at(den, group_of, denominators)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_groups, size=(n_bootstrap, n_groups))
    with np.errstate(invalid="ignore", divide="ignore"):
        resampled = num[picks].sum(axis=1) / den[picks].sum(axis=1)  # [B, M]
        point = num.sum(axis=0) / den.sum(axis=0)
    low, high = np.nanpercentile(resampled, [2.5, 97.5], axis=0) if n_bootstrap else (point, point)
    # A metric with nothing to measure (no wrong attempt to recall, say) is left out, not reported as NaN.
    return {
        n: Estimate(float(point[i]), float(low[i]), float(high[i])) for i, n in enumerate(names) if den[:, i].sum() > 0
    }
