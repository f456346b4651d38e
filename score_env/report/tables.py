"""Printing metrics as a table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from score_env.metrics import SelfCorrectionReport

LABELS = {
    "delta": "Δ(t1,t_last)",
    "delta_i_to_c": "Δi→c",
    "delta_c_to_i": "Δc→i",
    "edit_distance_ratio": "edit-distance ratio",
    "answer_changed": "answer changed",
}


def metrics_table(report: SelfCorrectionReport, title: str) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    for name, estimate in report.estimates.items():
        label = LABELS.get(name, name.replace("acc@", "Acc@"))
        if name.startswith("tokens@"):
            value, ci = f"{estimate.value:.1f}", f"[{estimate.low:.1f}, {estimate.high:.1f}]"
        elif name == "edit_distance_ratio":
            value, ci = f"{estimate.value:.3f}", f"[{estimate.low:.3f}, {estimate.high:.3f}]"
        else:
            value, ci = f"{100 * estimate.value:.1f}%", f"[{100 * estimate.low:.1f}, {100 * estimate.high:.1f}]"
        table.add_row(label, value, ci)
    grades = "; ".join(f"{t}: " + ", ".join(f"{k} {v}" for k, v in r.items()) for t, r in report.reasons.items())
    table.caption = (
        f"{report.episodes} episodes over {report.problems} problems, {report.attempts} attempts; grades: {grades}"
    )
    return table


def print_report(report: SelfCorrectionReport, title: str, console: Console | None = None) -> None:
    (console or Console()).print(metrics_table(report, title))
