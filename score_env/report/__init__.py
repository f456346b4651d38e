"""Everything a report shows: the metrics table (``tables``), the benchmark's ``results.md`` (``markdown``), its plots
(``plots``) and where a report came from (``provenance``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from score_env.benchmark.results import MethodFailure, MethodResult, outcomes_json
from score_env.config import BenchmarkConfig
from score_env.layout import BenchmarkLayout
from score_env.report.markdown import results_markdown
from score_env.report.plots import write_plots
from score_env.report.provenance import provenance
from score_env.report.tables import metrics_table, print_report
from score_env.runs import write_atomic


def write_benchmark_report(
    report_dir: Path, config: BenchmarkConfig, outcomes: Sequence[MethodResult | MethodFailure]
) -> list[Path]:
    """``results.json``, ``results.md`` and the plots; returns the plots' paths."""
    lines = provenance(config)
    layout = BenchmarkLayout(report_dir)
    write_atomic(layout.results, outcomes_json(tuple(outcomes)).decode() + "\n")
    write_atomic(layout.results_md, results_markdown(outcomes, lines))
    if config.wandb:  # the results table beside the methods' training runs
        from score_env.training.trackers import wandb_results

        wandb_results(report_dir, json.loads(layout.results.read_text(encoding="utf-8")))
    return write_plots(report_dir, [o for o in outcomes if isinstance(o, MethodResult)], title=lines[0])


__all__ = ["metrics_table", "print_report", "results_markdown", "write_benchmark_report"]
