"""Everything a report shows: the metrics table (``tables``), the benchmark's ``results.md`` (``markdown``) and its
plots (``plots``)."""

from __future__ import annotations

from pathlib import Path

from score_env.benchmark.results import MethodFailure, MethodResult, outcomes_json
from score_env.report.markdown import results_markdown
from score_env.report.plots import write_plots
from score_env.report.tables import metrics_table, print_report
from score_env.runs import write_atomic


def write_benchmark_report(report_dir: Path, outcomes: tuple[MethodResult | MethodFailure, ...]) -> list[Path]:
    """``results.json``, ``results.md`` and the plots; returns the plots' paths."""
    write_atomic(report_dir / "results.json", outcomes_json(outcomes).decode() + "\n")
    write_atomic(report_dir / "results.md", results_markdown(outcomes))
    return write_plots(report_dir, [o for o in outcomes if isinstance(o, MethodResult)])


__all__ = ["metrics_table", "print_report", "results_markdown", "write_benchmark_report"]
