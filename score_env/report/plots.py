"""The benchmark's PNG plots, each titled with what it shows (env, model, eval size, seeds).

accuracy per attempt (bars labelled with their values, so a zero reads 0.0), edit-distance histograms (one panel per
method), training curves (one panel per method, smoothed: rewards for RL methods, the loss for SFT methods),
inference-compute scaling and distribution shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: files only
import matplotlib.pyplot as plt

from score_env.benchmark.aggregate import by_method, spread
from score_env.benchmark.compare import pooled_estimate
from score_env.benchmark.results import MethodResult
from score_env.layout import BenchmarkLayout
from score_env.metric_catalogue import metric
from score_env.runs import read_jsonl


def write_plots(report_dir: Path, done: Sequence[MethodResult], title: str) -> list[Path]:
    if not done:
        return []
    table = by_method(done)
    plots = [
        *([_correction(report_dir, table, title)] if any(o.fixed for o in done) else []),
        _accuracy(report_dir, table, title),
        _edit_histograms(report_dir, table, title),
        _training_curves(report_dir, table, title),
    ]
    if any(o.scaling for o in done):
        plots.append(_scaling(report_dir, done, title))
    if any(o.shift for o in done):
        plots.append(_shift(report_dir, table, title))
    return plots


def _correction(report_dir: Path, table: dict[str, dict[int, MethodResult]], title: str) -> Path:
    """The headline: fix rate, break rate and re-solve control on the base model's first attempts, with intervals."""
    names = [n for n, runs in table.items() if any(r.fixed for r in runs.values())]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(names)), 4.5))
    for offset, key in ((-0.27, "fix"), (0.0, "control"), (0.27, "break")):
        estimates = [pooled_estimate(table[n], key) for n in names]
        values = [100 * e.value if e else 0.0 for e in estimates]
        errors = [[100 * (e.value - e.low) if e else 0 for e in estimates],
                  [100 * (e.high - e.value) if e else 0 for e in estimates]]  # fmt: skip
        bars = ax.bar([i + offset for i in range(len(names))], values, 0.27, yerr=errors, capsize=3,
                      label=metric(key).label)  # fmt: skip
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=25, ha="right")
    ax.set_ylabel("% of its wrong (fix, control) / right (break) t1")
    ax.set_ylim(0, 105)
    ax.legend(loc="upper right")
    ax.set_title(f"Correction on the base model's greedy first attempts (greedy; 95% intervals)\n{title}", fontsize=9)
    return _save(fig, BenchmarkLayout(report_dir).correction_plot)


def _accuracy(report_dir: Path, table: dict[str, dict[int, MethodResult]], title: str) -> Path:
    names = list(table)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.4 * len(names)), 4.5))
    for offset, key in ((-0.2, "acc@t1"), (0.2, "acc@final")):  # the final attempt, as every table shows it
        spreads = [spread(table[n], key) for n in names]
        values = [100 * s.mean for s in spreads]
        errors = [100 * s.std for s in spreads] if any(len(s.values) > 1 for s in spreads) else None
        bars = ax.bar([i + offset for i in range(len(names))], values, 0.4, yerr=errors, capsize=3,
                      label=metric(key).label)  # fmt: skip
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=25, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.legend(loc="lower right")
    ax.set_title(
        f"Accuracy at the first and the final attempt (greedy; error bars: std over seeds)\n{title}", fontsize=9
    )
    return _save(fig, BenchmarkLayout(report_dir).accuracy_plot)


def _edit_histograms(report_dir: Path, table: dict[str, dict[int, MethodResult]], title: str) -> Path:
    names = list(table)
    columns = min(4, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False, sharex=True)
    for ax, name in zip(axes.flat, names, strict=False):
        ratios = [r for run in table[name].values() for r in run.report.edit_ratios]
        weights = [100 / len(ratios)] * len(ratios) if ratios else None
        ax.hist(ratios, bins=20, range=(0, 1), weights=weights, color="tab:blue")
        unchanged = 100 * sum(r == 0 for r in ratios) / max(1, len(ratios))
        ax.set_title(f"{name}: {unchanged:.0f}% unchanged", fontsize=9)
        ax.set_xlabel("edit ratio between attempts")
        ax.set_ylabel("% of episodes")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"How much attempt 2 rewrites attempt 1 (0 = identical)\n{title}", fontsize=9)
    return _save(fig, BenchmarkLayout(report_dir).edit_distance_plot)


def _training_curves(report_dir: Path, table: dict[str, dict[int, MethodResult]], title: str) -> Path:
    """One panel per trained method: the reward of each attempt it is rewarded on (RL) or its loss (SFT), smoothed;
    with several seeds, their mean and (as a band) their range."""
    trained = [name for name, runs in table.items() if any(r.updates for r in runs.values())]
    columns = min(3, max(1, len(trained)))
    rows = max(1, math.ceil(len(trained) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.0 * columns, 2.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, trained, strict=False):
        layout = BenchmarkLayout(report_dir)
        logs = [read_jsonl(layout.method(seed, name).train.metrics_log) for seed in table[name]]
        logs = [records for records in logs if records]
        keys = [k for k in ("reward@t1", "reward@t2", "reward@final") if any(k in r for rs in logs for r in rs)]
        for colour, key in enumerate(keys or ["loss"]):
            curves = [[(r["step"], r[key]) for r in records if key in r] for records in logs]
            curves = [c for c in curves if c]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            steps = [step for step, _ in curves[0][:length]]
            smoothed = [_smooth([v for _, v in c[:length]]) for c in curves]
            _mean_and_range(ax, steps, smoothed, "-", f"C{colour}", key)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("update")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(trained) :]:
        ax.axis("off")
    seeds = len({seed for runs in table.values() for seed in runs})
    spread_note = f"; mean of {seeds} seeds, band: their range" if seeds > 1 else ""
    fig.suptitle(f"Training curves (moving average over a tenth of the run{spread_note})\n{title}", fontsize=9)
    return _save(fig, BenchmarkLayout(report_dir).training_curves_plot)


def _mean_and_range(
    ax: Any, x: Sequence[float], curves: Sequence[Sequence[float]], style: str, colour: str, label: str
) -> None:
    """The mean of several seeds' curves as a line, their range as a band (no band for one seed)."""
    by_point = list(zip(*curves, strict=True))
    ax.plot(x, [sum(p) / len(p) for p in by_point], style, color=colour, label=label, linewidth=1.4)
    if len(curves) > 1:
        ax.fill_between(x, [min(p) for p in by_point], [max(p) for p in by_point], color=colour, alpha=0.15)


def _smooth(values: Sequence[float]) -> list[float]:
    window = max(1, len(values) // 10)
    return [
        sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
        for i in range(len(values))
    ]


def _scaling(report_dir: Path, done: Sequence[MethodResult], title: str) -> Path:
    """One colour per method, dashed for 2K parallel first attempts, solid for K x (attempt + correction); with
    several seeds the line is their mean and the band their range."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    by_name: dict[str, list[MethodResult]] = {}
    for o in done:
        if o.scaling is not None:
            by_name.setdefault(o.name, []).append(o)
    for colour, (name, runs) in enumerate(by_name.items()):
        k = runs[0].scaling.k
        for style, attr, label in (("o--", "parallel", "2K parallel"), ("o-", "sequential", "K x (1 + fix)")):
            curves = [[100 * v for v in getattr(r.scaling, attr)] for r in runs]
            _mean_and_range(ax, k, curves, style, f"C{colour}", f"{name}: {label}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("K (budget: 2K samples per problem)")
    ax.set_ylabel("majority-vote accuracy (%)")
    ax.legend(fontsize=7)
    seeds = len({o.seed for runs in by_name.values() for o in runs})
    spread_note = f"mean over {seeds} seeds, band: their range" if seeds > 1 else "one seed"
    ax.set_title(f"Inference-compute scaling ({spread_note})\n{title}", fontsize=9)
    return _save(fig, BenchmarkLayout(report_dir).scaling_plot)


def _shift(report_dir: Path, table: dict[str, dict[int, MethodResult]], title: str) -> Path:
    names = [n for n, runs in table.items() if any(r.shift for r in runs.values())]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.4 * len(names)), 4.5))
    for offset, attr, label in ((-0.2, "own_first_attempts", "own"), (0.2, "base_first_attempts", "base model's")):
        values = []
        for n in names:
            shifts = [getattr(r.shift, attr) for r in table[n].values() if r.shift]
            values.append(100 * sum(shifts) / len(shifts))
        bars = ax.bar([i + offset for i in range(len(names))], values, 0.4, label=f"on {label} first attempts")
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=25, ha="right")
    ax.set_ylabel("correction rate (%)")
    ax.legend()
    ax.set_title(f"Distribution shift: P(right at t2 | wrong at t1)\n{title}", fontsize=9)
    return _save(fig, BenchmarkLayout(report_dir).shift_plot)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
