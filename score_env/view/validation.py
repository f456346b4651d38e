"""A ``score-env validate`` run's page: its checks table, every failing check's examples, and what was validated.

The run is ``validate.json`` (``score_env.validation.ValidationReport``), in its run directory or named
directly. The records are imported only here, when such a run is viewed: ``score_env.validate`` pulls in the task
machinery (and torch), which a benchmark's or an eval's page does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from score_env.config import ConfigError
from score_env.text import dump_json, escape_text
from score_env.view.model import ViewPage

if TYPE_CHECKING:
    from score_env.validation import ValidationReport

SHOWN_IDS = 40  # sampled problem ids listed in the facts; the rest are counted
ID_CHARS = 120  # of one problem id (a task of the user's own names its problems)
KWARGS_CHARS = 400  # of the env_kwargs, as JSON
# validate.json's latency figures (seconds, answers per second), in the order and the words the page shows them.
LATENCY: tuple[tuple[str, Callable[[float], str]], ...] = (
    ("p50_s", lambda s: f"p50 {s * 1000:.1f} ms"),
    ("p99_s", lambda s: f"p99 {s * 1000:.1f} ms"),
    ("max_s", lambda s: f"max {s:.2f} s"),
    ("per_second", lambda v: f"{v:.1f} answers/s"),
    ("answers", lambda v: f"over {v:.0f} answers"),
)


def read_validate(path: Path) -> ViewPage:
    """The page of ``path``, a ``validate.json``; one that ``score-env validate`` did not write raises
    ``ConfigError``."""
    from score_env.validation import ValidationReport

    try:
        report = ValidationReport.read(path)
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON, or not the report's shape
        raise ConfigError(
            f"{str(path)!r} is no validate.json that score-env validate wrote ({type(error).__name__}: "
            f"{escape_text(str(error), 200, one_line=True)}): run score-env validate env=<name> again"
        ) from None
    failing = [c.name for c in report.failing()]
    verdict = f"FAILED ({', '.join(failing)})" if failing else "passed"
    notes = (f"Failed: {', '.join(failing)}. Each failing check's examples are below the table.",) if failing else ()
    return ViewPage(
        title=f"validate {path.parent.resolve().name}",
        kind="validate",
        facts=_facts(report, verdict),
        checks=report.checks,
        notes=notes,
    )


def _facts(report: ValidationReport, verdict: str) -> tuple[str, ...]:
    kwargs = escape_text(dump_json(report.env_kwargs), KWARGS_CHARS, one_line=True) if report.env_kwargs else "none"
    backend = f", sandbox {report.backend}" if report.backend else ""
    ids = [escape_text(i, ID_CHARS, one_line=True) for i in report.problems]
    more = f" … and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    latency = [show(report.latency[key]) for key, show in LATENCY if key in report.latency]
    return (
        f"{report.env_id} ({report.split}): {verdict}",
        f"env_kwargs {kwargs}{backend}",
        f"{len(ids)} problem(s) sampled with seed {report.seed}: {', '.join(ids[:SHOWN_IDS])}{more}",
        f"grading latency: {', '.join(latency)}" if latency else "grading latency: not measured",
    )
