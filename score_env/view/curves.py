"""A training run's curves as one inline SVG (no plotting library, no image file): rewards per attempt, KL per
attempt, the loss and the gradient norm, each smoothed like the benchmark's plots (a moving average over a tenth
of the run), with the stage changes marked."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import pairwise
from typing import Any

PANELS = (("rewards", "reward@"), ("KL to the reference", "kl@"), ("loss", "loss"), ("gradient norm", "grad_norm"))
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
W, H, PAD = 380, 210, 50  # one panel, in SVG units; PAD is the room for the axis labels


def training_curves(records: Sequence[dict[str, Any]]) -> str:
    """The SVG of the panels that ``records`` (``metrics.jsonl`` lines) have data for; "" if none."""
    panels = []
    for title, prefix in PANELS:
        keys = sorted(k for k in (records[0] if records else {}) if k == prefix or k.startswith(prefix))
        series = {k: [(r["step"], float(r[k])) for r in records if isinstance(r.get(k), int | float)] for k in keys}
        series = {k: v for k, v in series.items() if v}
        if series:
            panels.append((title, series))
    if not panels:
        return ""
    stages = _stage_starts(records)
    width = W * min(2, len(panels))
    height = H * ((len(panels) + 1) // 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="curves" role="img">']
    for number, (title, series) in enumerate(panels):
        parts.append(_panel(title, series, stages, W * (number % 2), H * (number // 2)))
    return "".join(parts) + "</svg>"


def _panel(
    title: str, series: dict[str, list[tuple[float, float]]], stages: list[tuple[int, str]], x0: float, y0: float
) -> str:
    points = [p for values in series.values() for p in values]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_low, x_high = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y_low, y_high = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    left, top, right, bottom = x0 + PAD, y0 + 22, x0 + W - 10, y0 + H - 36

    def at(x: float, y: float) -> str:
        px = left + (x - x_low) / (x_high - x_low) * (right - left)
        py = bottom - (y - y_low) / (y_high - y_low) * (bottom - top)
        return f"{px:.1f},{py:.1f}"

    out = [
        f'<text x="{x0 + W / 2}" y="{y0 + 14}" text-anchor="middle" class="title">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" class="frame"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{_number(y_high)}</text>',
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end">{_number(y_low)}</text>',
        f'<text x="{left}" y="{bottom + 14}">{_number(x_low)}</text>',
        f'<text x="{right}" y="{bottom + 14}" text-anchor="end">update {_number(x_high)}</text>',
    ]
    for step, name in stages:
        if x_low < step <= x_high:
            x = at(step, y_high).split(",")[0]
            out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" class="stage"/>')
            out.append(f'<text x="{float(x) + 3}" y="{bottom - 4}" class="stage">{escape(name)}</text>')
    for (name, values), color in zip(series.items(), COLORS, strict=False):
        smoothed = _smooth([v for _, v in values])
        path = " ".join(at(s, v) for (s, _), v in zip(values, smoothed, strict=True))
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        legend_x = left + (right - left) * (list(series).index(name) + 0.5) / len(series)
        legend = (
            f'<text x="{legend_x:.0f}" y="{bottom + 28}" text-anchor="middle" fill="{color}">— {escape(name)}</text>'
        )
        out.append(legend)
    return "".join(out)


def _stage_starts(records: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    """(first step, stage name) wherever the stage changes after the first."""
    starts = []
    for before, record in pairwise(records):
        if record.get("stage") != before.get("stage"):
            starts.append((record["step"], str(record.get("stage", ""))))
    return starts


def _smooth(values: Sequence[float]) -> list[float]:
    window = max(1, len(values) // 10)
    return [
        sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
        for i in range(len(values))
    ]


def _number(x: float) -> str:
    return f"{x:.3g}"
