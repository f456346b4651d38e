"""The benchmark report: results.md (the paper-style table, the paper's numbers beside it) and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: files only
import matplotlib.pyplot as plt

# SCoRe paper, MATH-500 with Gemini 1.5 Flash (shared/PAPER.md, "Results to compare against").
PAPER_MATH = [
    ("base model (prompted)", 52.6, 41.4, -11.2, 4.6, 15.8),
    ("Self-Refine", 52.8, 51.8, -1.0, 3.2, 4.2),
    ("STaR+", 53.6, 54.0, 0.4, 2.6, 2.2),
    ("Pair-SFT", 52.4, 54.2, 1.8, 5.4, 3.6),
    ("SCoRe", 60.0, 64.4, 4.4, 5.8, 1.4),
]
PAPER_ABLATIONS = (
    "SCoRe 60.0/64.4/4.4; single-turn RL 61.8/59.4/-2.4; w/o Stage I 59.2/61.4/2.2; w/o shaping 60.0/62.6/2.6"
)
HEADER = (
    "| method | Acc@t1 | Acc@t2 | Δ(t1,t2) | Δi→c | Δc→i | edit ratio | answer changed | tokens | updates | wall s |"
)


def write_report(report_dir: Path, summary: dict[str, Any]) -> list[Path]:
    methods = {n: r for n, r in summary["methods"].items() if "error" not in r}
    (report_dir / "results.md").write_text(results_markdown(summary))
    plots = [
        _accuracy(report_dir, methods),
        _edit_histograms(report_dir, methods),
        _training_curves(report_dir, methods),
    ]
    analyses = summary["analyses"]
    if analyses.get("inference_scaling"):
        plots.append(_scaling(report_dir, analyses["inference_scaling"]))
    if analyses.get("distribution_shift"):
        plots.append(_shift(report_dir, analyses["distribution_shift"]))
    return plots


def results_markdown(summary: dict[str, Any]) -> str:
    def pct(m: dict[str, float]) -> str:
        return f"{100 * m['value']:.1f} [{100 * m['low']:.1f}, {100 * m['high']:.1f}]"

    lines = [
        "# score-env benchmark",
        "",
        HEADER,
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in summary["methods"].items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} |" + " |" * 10)
            continue
        m = r["metrics"]
        lines.append(
            f"| {name} | {pct(m['acc@t1'])} | {pct(m['acc@t2'])} | {pct(m['delta'])} | "
            f"{pct(m['delta_i_to_c'])} | {pct(m['delta_c_to_i'])} | {m['edit_distance_ratio']['value']:.3f} | "
            f"{100 * m['answer_changed']['value']:.1f} | {r['generated_tokens']} | {r['updates']} | "
            f"{r['wall_s']:.0f} |"
        )
    lines += [
        "",
        "Percentages with bootstrap 95% intervals (resampling problems). Greedy evaluation.",
        "",
        "## The paper's numbers, for reference (MATH-500, Gemini 1.5 Flash; shape, not scale, is comparable)",
        "",
        "| method | Acc@t1 | Acc@t2 | Δ | Δi→c | Δc→i |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {a} | {b} | {d} | {ic} | {ci} |" for n, a, b, d, ic, ci in PAPER_MATH]
    lines += ["", f"Ablations (Acc@t1 / Acc@t2 / Δ): {PAPER_ABLATIONS}.", ""]
    shift = summary["analyses"].get("distribution_shift", {})
    if shift:
        lines += [
            "## Distribution shift: correction rate P(right at t2 | wrong at t1)",
            "",
            "| method | on its own first attempts | on the base model's first attempts |",
            "|---|---|---|",
        ]
        lines += [
            f"| {n} | {100 * v['own_first_attempts']:.1f} | {100 * v['base_first_attempts']:.1f} |"
            for n, v in shift.items()
        ]
    scaling = summary["analyses"].get("inference_scaling", {})
    for name, curve in scaling.items():
        lines += [
            "",
            f"## Inference-compute scaling ({name}): accuracy at a budget of 2K samples",
            "",
            "| K | 2K parallel (vote) | K x (attempt + correction) (vote) |",
            "|---|---|---|",
        ]
        lines += [
            f"| {int(k)} | {100 * p:.1f} | {100 * s:.1f} |"
            for k, p, s in zip(curve["k"], curve["parallel"], curve["sequential"], strict=True)
        ]
    return "\n".join(lines) + "\n"


def _accuracy(report_dir: Path, methods: dict[str, Any]) -> Path:
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(methods)), 4))
    names = list(methods)
    for offset, key in ((-0.2, "acc@t1"), (0.2, "acc@t2")):
        values = [100 * methods[n]["metrics"][key]["value"] for n in names]
        errors = [
            [100 * (methods[n]["metrics"][key]["value"] - methods[n]["metrics"][key]["low"]) for n in names],
            [100 * (methods[n]["metrics"][key]["high"] - methods[n]["metrics"][key]["value"]) for n in names],
        ]
        ax.bar([i + offset for i in range(len(names))], values, 0.4, yerr=errors, label=key.replace("acc", "Acc"))
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.legend()
    return _save(fig, report_dir / "accuracy.png")


def _edit_histograms(report_dir: Path, methods: dict[str, Any]) -> Path:
    fig, axes = plt.subplots(1, len(methods), figsize=(2.6 * len(methods), 2.6), sharey=True, squeeze=False)
    for ax, (name, result) in zip(axes[0], methods.items(), strict=True):
        ax.hist(result["edit_distance_ratios"], bins=20, range=(0, 1))
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("edit ratio y1-y2")
    return _save(fig, report_dir / "edit_distance.png")


def _training_curves(report_dir: Path, methods: dict[str, Any]) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in methods:
        path = report_dir / "methods" / name / "train" / "metrics.jsonl"
        if not path.exists():
            continue
        records = [json.loads(line) for line in path.read_text().splitlines()]
        for key, style in (("reward@t1", "--"), ("reward@t2", "-")):
            points = [(r["step"], r[key]) for r in records if key in r]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=f"{name} {key}")
    ax.set_xlabel("update")
    ax.set_ylabel("training reward")
    ax.legend(fontsize=6)
    return _save(fig, report_dir / "training_curves.png")


def _scaling(report_dir: Path, scaling: dict[str, Any]) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in scaling.items():
        ax.plot(curve["k"], [100 * v for v in curve["parallel"]], "o--", label=f"{name}: 2K parallel")
        ax.plot(curve["k"], [100 * v for v in curve["sequential"]], "o-", label=f"{name}: K x (attempt + correction)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("K (budget: 2K samples per problem)")
    ax.set_ylabel("majority-vote accuracy (%)")
    ax.legend(fontsize=7)
    return _save(fig, report_dir / "inference_scaling.png")


def _shift(report_dir: Path, shift: dict[str, Any]) -> Path:
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shift)), 4))
    names = list(shift)
    ax.bar(
        [i - 0.2 for i in range(len(names))],
        [100 * shift[n]["own_first_attempts"] for n in names],
        0.4,
        label="own first attempts",
    )
    ax.bar(
        [i + 0.2 for i in range(len(names))],
        [100 * shift[n]["base_first_attempts"] for n in names],
        0.4,
        label="base model's first attempts",
    )
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("correction rate (%)")
    ax.legend()
    return _save(fig, report_dir / "distribution_shift.png")


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
