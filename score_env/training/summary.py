"""What a training run did, read back from its directory: the objective early vs late, the training Δ, the time,
the checkpoints. ``score-env train`` prints it at the end of every run; ``benchmarks/learning.py`` uses the same
objective and the same early/late split for its verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from score_env.layout import TrainLayout
from score_env.runs import read_jsonl
from score_env.training.checkpoint import read_index

Z95 = 1.96


def objective_key(records: Sequence[dict]) -> str:
    """What a method optimises, as its log records it: the reward of the attempt it is rewarded on (the final one
    for verify-then-revise and the oracle track, the second for multi-turn RL, else the first), or the loss of a
    supervised method (no reward logged)."""
    for key in ("reward@final", "reward@t2", "reward@t1", "loss"):
        if any(key in r for r in records):
            return key
    raise ValueError("no reward or loss in the training log")


def early_late(records: Sequence[dict], key: str) -> tuple[list[float], list[float]]:
    """``key`` over the first and the last fifth of the updates (at least two updates each)."""
    values = [float(r[key]) for r in records if key in r]
    fifth = max(2, len(values) // 5)
    return values[:fifth], values[-fifth:]


def change_interval(first: Sequence[float], last: Sequence[float]) -> tuple[float, float, float]:
    """The change of the mean from ``first`` to ``last`` with its 95% interval (Welch, over updates)."""
    change = _mean(last) - _mean(first)
    half = Z95 * math.sqrt(_var(first) / len(first) + _var(last) / len(last))
    return change, change - half, change + half


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _var(values: Sequence[float]) -> float:
    m = _mean(values)
    return sum((v - m) ** 2 for v in values) / max(1, len(values) - 1)


@dataclass(frozen=True)
class TrainingSummary:
    """A training run at its end (or wherever it stopped)."""

    run_dir: Path
    updates: int
    elapsed_s: float
    objective: str | None  # the logged key (None: no update logged)
    early: float | None  # its mean over the first fifth of the updates
    late: float | None  # ... and over the last fifth
    change: tuple[float, float, float] | None  # late - early, with its 95% interval
    delta_early: float | None  # the training Δ (reward@t2 − reward@t1) over the first fifth, where both are logged
    delta_late: float | None
    best: Path | None  # the best checkpoint (highest training reward) and the last
    last: Path | None

    def lines(self) -> list[str]:
        minutes, seconds = divmod(round(self.elapsed_s), 60)
        out = [f"trained {self.updates} updates in {minutes} min {seconds} s; run directory: {self.run_dir}"]
        if self.objective is not None and self.change is not None:
            change, low, high = self.change
            way = "falls" if self.objective == "loss" else "rises"
            clear = (high < 0) if self.objective == "loss" else (low > 0)
            out.append(
                f"objective {self.objective}: {self.early:.4g} (first fifth of the updates) -> {self.late:.4g} (last "
                f"fifth), change {change:+.4g} [95% interval {low:+.4g}, {high:+.4g}]: it {way}"
                + ("" if clear else " only within the noise, if at all")
            )
        if self.delta_early is not None and self.delta_late is not None:
            out.append(f"training Δ (reward@t2 − reward@t1): {self.delta_early:+.3f} -> {self.delta_late:+.3f}")
        if self.best is not None and self.last is not None:
            out.append(f"checkpoints: best {self.best}, last {self.last}")
        out.append(f"next: score-env eval model={self.run_dir}   |   score-env view {self.run_dir}")
        return out


def summarise(run_dir: Path) -> TrainingSummary:
    """Read ``metrics.jsonl`` and the checkpoint index of a training run."""
    layout = TrainLayout(run_dir)
    records = read_jsonl(layout.metrics_log)
    objective = objective_key(records) if records else None
    early = late = delta_early = delta_late = change = None
    if objective is not None:
        first, last = early_late(records, objective)
        early, late, change = _mean(first), _mean(last), change_interval(first, last)
        deltas = [{"d": r["reward@t2"] - r["reward@t1"]} for r in records if "reward@t2" in r and "reward@t1" in r]
        if deltas:
            first, last = early_late(deltas, "d")
            delta_early, delta_late = _mean(first), _mean(last)
    index = read_index(run_dir)
    best = last_checkpoint = None
    if index is not None and index.checkpoints:
        best, last_checkpoint = layout.checkpoint(index.best).root, layout.checkpoint(index.last).root
    return TrainingSummary(
        run_dir,
        int(records[-1]["step"]) if records else 0,
        float(records[-1].get("elapsed_s", 0.0)) if records else 0.0,
        objective,
        early,
        late,
        change,
        delta_early,
        delta_late,
        best,
        last_checkpoint,
    )
