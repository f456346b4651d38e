"""The benchmark's PNG plots: accuracy per attempt, edit-distance histograms, training curves, scaling, shift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: files only
import matplotlib.pyplot as plt

from score_env.benchmark.results import MethodResult


def write_plots(report_dir: Path, done: list[MethodResult]) -> list[Path]:
    plots = [_accuracy(report_dir, done), _edit_histograms(report_dir, done), _training_curves(report_dir, done)]
    if any(o.scaling for o in done):
        plots.append(_scaling(report_dir, done))
    if any(o.shift for o in done):
        plots.append(_shift(report_dir, done))
    return plots


def _accuracy(report_dir: Path, done: list[MethodResult]) -> Path:
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(done)), 4))
    for offset, key in ((-0.2, "acc@t1"), (0.2, "acc@t2")):
        estimates = [o.report.estimates[key] for o in done]
        values = [100 * e.value for e in estimates]
        errors = [[100 * (e.value - e.low) for e in estimates], [100 * (e.high - e.value) for e in estimates]]
        ax.bar([i + offset for i in range(len(done))], values, 0.4, yerr=errors, label=key.replace("acc", "Acc"))
    ax.set_xticks(range(len(done)), [o.name for o in done], rotation=30, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    return _save(fig, report_dir / "accuracy.png")


def _edit_histograms(report_dir: Path, done: list[MethodResult]) -> Path:
    fig, axes = plt.subplots(1, len(done), figsize=(2.6 * len(done), 2.6), sharey=True, squeeze=False)
    for ax, outcome in zip(axes[0], done, strict=True):
        ax.hist(outcome.report.edit_ratios, bins=20, range=(0, 1))
        ax.set_title(outcome.name, fontsize=8)
        ax.set_xlabel("edit ratio y1-y2")
    return _save(fig, report_dir / "edit_distance.png")


def _training_curves(report_dir: Path, done: list[MethodResult]) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for outcome in done:
        path = report_dir / "methods" / outcome.name / "train" / "metrics.jsonl"
        if not path.exists():
            continue
        records = [json.loads(line) for line in path.read_text().splitlines()]
        for key, style in (("reward@t1", "--"), ("reward@t2", "-")):
            points = [(r["step"], r[key]) for r in records if key in r]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=f"{outcome.name} {key}")
    ax.set_xlabel("update")
    ax.set_ylabel("training reward")
    ax.legend(fontsize=6)
    return _save(fig, report_dir / "training_curves.png")


def _scaling(report_dir: Path, done: list[MethodResult]) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for o in done:
        if o.scaling is None:
            continue
        ax.plot(o.scaling.k, [100 * v for v in o.scaling.parallel], "o--", label=f"{o.name}: 2K parallel")
        ax.plot(
            o.scaling.k, [100 * v for v in o.scaling.sequential], "o-", label=f"{o.name}: K x (attempt + correction)"
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("K (budget: 2K samples per problem)")
    ax.set_ylabel("majority-vote accuracy (%)")
    ax.legend(fontsize=7)
    return _save(fig, report_dir / "inference_scaling.png")


def _shift(report_dir: Path, done: list[MethodResult]) -> Path:
    shifted = [o for o in done if o.shift is not None]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shifted)), 4))
    own = [100 * o.shift.own_first_attempts for o in shifted if o.shift]
    base = [100 * o.shift.base_first_attempts for o in shifted if o.shift]
    ax.bar([i - 0.2 for i in range(len(shifted))], own, 0.4, label="own first attempts")
    ax.bar([i + 0.2 for i in range(len(shifted))], base, 0.4, label="base model's first attempts")
    ax.set_xticks(range(len(shifted)), [o.name for o in shifted], rotation=30, ha="right")
    ax.set_ylabel("correction rate (%)")
    ax.legend()
    return _save(fig, report_dir / "distribution_shift.png")


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
