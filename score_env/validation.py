"""What ``score-env validate`` found (``score_env.validate``): one row per check, with its worst examples;
``validate.json`` round-trips it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from score_env.text import dump_json, escape_text

Status = Literal["pass", "fail", "skip"]
SHOWN_CHARS = 160  # of an answer or a detail, in the table and validate.json


@dataclass(frozen=True)
class Example:
    """One answer that broke a check (or, for a passing check, its slowest), as the report shows it."""

    problem_id: str
    kind: str  # which probe: "empty", "an object equal to everything", "reference", ...
    answer: str  # the answer, cut to SHOWN_CHARS
    reward: float | None
    reason: str
    seconds: float
    detail: str = ""

    def line(self) -> str:
        reward = "-" if self.reward is None else f"{self.reward:g}"
        text = escape_text(self.answer, 60, one_line=True)
        why = f" ({escape_text(self.detail, 80, one_line=True)})" if self.detail else ""
        return f"{self.problem_id}: {self.kind}: {text!r} -> reward {reward}, {self.reason}{why}"


def example(problem_id: str, kind: str, answer: str, reward: float | None, reason: str, seconds: float,
            detail: str = "") -> Example:  # fmt: skip
    return Example(problem_id, kind, answer[:SHOWN_CHARS], reward, reason, round(seconds, 4), detail[:SHOWN_CHARS])


@dataclass(frozen=True)
class CheckResult:
    """One check: ``pass``, ``fail`` or ``skip`` (with why), how many answers it tried, the ones that failed."""

    name: str
    status: Status
    tried: int
    failed: int = 0
    examples: tuple[Example, ...] = ()
    note: str = ""  # what the check measured, or why it was skipped

    @property
    def worst(self) -> str:
        return self.examples[0].line() if self.examples else ""


@dataclass(frozen=True)
class ValidationReport:
    """``validate.json``: the env, what it was validated with, and every check."""

    env_id: str
    split: str
    env_kwargs: dict[str, Any]
    problems: tuple[str, ...]  # the ids of the sampled problems
    seed: int
    checks: tuple[CheckResult, ...]
    backend: str | None = None  # the sandbox that ran a code task's answers
    latency: dict[str, float] = field(default_factory=dict)  # p50_s, p99_s, max_s, per_second

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    def to_json(self) -> str:
        return dump_json(asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        data = json.loads(text)
        checks = tuple(
            CheckResult(**{**c, "examples": tuple(Example(**e) for e in c["examples"])}) for c in data.pop("checks")
        )
        return cls(**{**data, "problems": tuple(data["problems"]), "checks": checks})

    @classmethod
    def read(cls, path: Path) -> ValidationReport:
        return cls.from_json(path.read_text(encoding="utf-8"))


def table(report: ValidationReport) -> list[str]:
    """The printed table: check, result, count, worst example; then every failing example."""
    rows = [(c.name, c.status.upper(), _count(c), c.worst or c.note) for c in report.checks]
    widths = [max(len(r[i]) for r in [("check", "result", "count", ""), *rows]) for i in range(3)]
    head = f"{'check':<{widths[0]}}  {'result':<{widths[1]}}  {'count':<{widths[2]}}  worst example / note"
    lines = [head, *(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows)]
    for check in report.failing():
        lines.append(f"\n{check.name} failed on {check.failed} of {check.tried}:")
        lines += [f"  {e.line()}" for e in check.examples]
    return lines


def _count(check: CheckResult) -> str:
    if check.status == "skip":
        return "-"
    return f"{check.tried - check.failed}/{check.tried}"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else 0.0
