"""Printing metrics as a table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from score_env.metric_catalogue import metric
from score_env.metrics import SelfCorrectionReport


def metrics_table(report: SelfCorrectionReport, title: str) -> Table:
    """Every estimate of the report, in its order, labelled and formatted by the metric catalogue."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    for name, estimate in report.estimates.items():
        m = metric(name)
        table.add_row(m.label, m.with_unit(estimate.value), m.interval(estimate.low, estimate.high))
    grades = "; ".join(f"{t}: " + ", ".join(f"{k} {v}" for k, v in r.items()) for t, r in report.reasons.items())
    table.caption = (
        f"{report.episodes} episodes over {report.problems} problems, {report.attempts} attempts; grades: {grades}"
    )
    return table


def print_report(report: SelfCorrectionReport, title: str, console: Console | None = None) -> None:
    (console or Console()).print(metrics_table(report, title))
