"""Every metric and column a report shows, defined once: its key (as in ``metrics.json``), label, unit, digits,
one-line definition and the settings that have it. The CLI tables, ``results.md`` (and its legend), the viewer, the
plots and ``--help`` iterate this catalogue instead of listing columns of their own, so one metric reads the same in
every output (issue 25).

``acc@final`` is the answer an episode ends on: Acc@t2 for two attempts (the paper's setting), Acc@t3 for three. The
tables show it, never ``acc@t2``, so a three-attempt method reads the same everywhere. Per-attempt keys
(``acc@t3``, ``tokens@t2``) resolve through their template (``acc@t{n}``) in :func:`metric`.

This module imports nothing of ours: it formats plain numbers, and ``score_env.metrics`` computes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from difflib import get_close_matches
from typing import Literal

Unit = Literal["percent", "count", "ratio", "number"]
Setting = Literal["every", "multi-attempt", "early-stop", "verify-then-revise", "fixed-first", "sampled", "trained"]
SETTINGS: dict[Setting, str] = {
    "every": "every run",
    "multi-attempt": "two or more attempts",
    "early-stop": "episodes that may stop early (verify-then-revise, the oracle track)",
    "verify-then-revise": "verify-then-revise (the model's own verdict between attempts)",
    "fixed-first": "attempt 2 after the base model's fixed first attempts (a benchmark, or eval first_attempts=)",
    "sampled": "the benchmark's sampled evaluation",
    "trained": "a benchmark method",
}


@dataclass(frozen=True)
class Metric:
    """One metric or column. ``digits``: after the point, of the value as shown (x100 for a percent); None: the
    shortest general form (a learning rate)."""

    key: str
    label: str
    unit: Unit
    digits: int | None
    definition: str
    settings: Setting = "every"

    def text(self, value: float) -> str:
        """The value as a table cell shows it, without its unit: ``50.0`` for 0.5 in percent."""
        if self.digits is None:
            return f"{value:g}"
        return f"{(100 * value if self.unit == 'percent' else value):.{self.digits}f}"

    def with_unit(self, value: float) -> str:
        """The value with its unit where it has a sign of one: ``50.0%``, ``2.00`` (a mean number of attempts)."""
        return self.text(value) + ("%" if self.unit == "percent" else "")

    def interval(self, low: float, high: float) -> str:
        return f"[{self.text(low)}, {self.text(high)}]"


_ENTRIES = (
    Metric("acc@t{n}", "Acc@t{n}", "percent", 1, "share of problems right at attempt {n} (an episode that stopped "
           "earlier keeps the answer it stopped on)"),
    Metric("acc@final", "Acc@final", "percent", 1, "share of problems right at the answer an episode ends on "
           "(Acc@t2 for two attempts)"),
    Metric("delta", "Δ(t1,final)", "percent", 1, "Acc@final − Acc@t1 = Δi→c − Δc→i", "multi-attempt"),
    Metric("delta_i_to_c", "Δi→c", "percent", 1, "share wrong at attempt 1 and right at the final one",
           "multi-attempt"),
    Metric("delta_c_to_i", "Δc→i", "percent", 1, "share right at attempt 1 and wrong at the final one",
           "multi-attempt"),
    Metric("attempts", "attempts", "count", 2, "mean attempts per episode (below the maximum when the model's "
           "verdict or the oracle ends episodes early)", "early-stop"),
    Metric("verdict_accuracy", "verdict acc.", "percent", 1, "share of self-verdicts right about the attempt they "
           "judge", "verify-then-revise"),
    Metric("verdict_recall_right", "verdict recall (right)", "percent", 1, "share of right attempts the verdict "
           "calls correct", "verify-then-revise"),
    Metric("verdict_recall_wrong", "verdict recall (wrong)", "percent", 1, "share of wrong attempts the verdict "
           "calls wrong (or leaves unparsable)", "verify-then-revise"),
    Metric("edit_distance_ratio", "edit ratio", "ratio", 3, "insert/delete edit distance between the first and the "
           "final attempt over their total length (0 = unchanged)", "multi-attempt"),
    Metric("answer_changed", "answer changed", "percent", 1, "share of episodes whose extracted answer changed "
           "between the first and the final attempt", "multi-attempt"),
    Metric("tokens@t{n}", "tokens@t{n}", "count", 1, "mean tokens of attempt {n}, over the episodes that made it"),
    Metric("fix", "fix rate", "percent", 1, "attempt 2 right after a wrong first attempt of the base model",
           "fixed-first"),
    Metric("break", "break rate", "percent", 1, "attempt 2 wrong after a right first attempt of the base model",
           "fixed-first"),
    Metric("control", "re-solve control", "percent", 1, "the method's own fresh first attempt on the problems the "
           "base model got wrong", "fixed-first"),
    Metric("fix_minus_control", "fix − control", "percent", 1, "fix rate − re-solve control (> 0: attempt 2 gains "
           "from reading attempt 1)",
           "fixed-first"),
    Metric("pass@2", "pass@2 (t1)", "percent", 1, "two independent first attempts, at least one right", "sampled"),
    Metric("maj@2", "maj@2 (t1)", "percent", 1, "a majority vote between two independent first attempts (a tie "
           "counts half)", "sampled"),
    Metric("eval_episodes", "eval episodes", "count", 0, "episodes of the evaluation"),
    Metric("errors", "errors", "count", 0, "attempts graded `error` (the grader or sandbox failed: no reward "
           "signal, left out of training)"),
    Metric("lr", "lr", "number", None, "the learning rate the method trained with", "trained"),
    Metric("updates", "updates", "count", 0, "gradient updates made", "trained"),
    Metric("train_episodes", "train episodes", "count", 0, "training episodes sampled", "trained"),
)  # fmt: skip
CATALOGUE: dict[str, Metric] = {m.key: m for m in _ENTRIES}

HEADLINE = ("acc@t1", "acc@final", "delta", "delta_i_to_c", "delta_c_to_i")  # shown with their intervals
WHEN_PRESENT = ("attempts", "verdict_accuracy")  # shown when episodes stop early, or have verdicts
CHANGE = ("edit_distance_ratio", "answer_changed")
FIXED = ("fix", "break", "control", "fix_minus_control")
FACTS = ("eval_episodes", "errors", "lr", "updates", "train_episodes")  # of a run, beside its metrics
_PER_ATTEMPT = re.compile(r"(?P<name>[a-z_]+)@t(?P<n>[0-9]+)")


def metric(key: str) -> Metric:
    """The catalogue's entry for ``key``; a per-attempt key (``acc@t3``) through its template."""
    if key in CATALOGUE:
        return CATALOGUE[key]
    match = _PER_ATTEMPT.fullmatch(key)
    template = CATALOGUE.get(f"{match['name']}@t{{n}}") if match else None
    if match is None or template is None:
        close = get_close_matches(key, list(CATALOGUE), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"{key!r} is not in the metric catalogue (score_env/metric_catalogue.py){hint}")
    n = match["n"]
    return replace(template, key=key, label=template.label.format(n=n), definition=template.definition.format(n=n),
                   settings="every" if n == "1" else "multi-attempt")  # fmt: skip


def table_columns(estimates: Sequence[Mapping[str, float]]) -> tuple[Metric, ...]:
    """The metric columns of a table of runs (``estimates``: each run's metric values): the headline, then the mean
    number of attempts where it differs between runs and the verdict accuracy where there are verdicts, then how
    much the final attempt changed the first. ``results.md`` and the viewer both show these."""
    shown = [k for k in WHEN_PRESENT if _worth_showing(k, estimates)]
    return tuple(metric(k) for k in (*HEADLINE, *shown, *CHANGE))


def fact_columns(facts: Sequence[Mapping[str, float]]) -> tuple[Metric, ...]:
    """The ``FACTS`` some run of a table has (``facts``: each run's), in the catalogue's order."""
    return tuple(metric(k) for k in FACTS if any(k in f for f in facts))


def _worth_showing(key: str, estimates: Sequence[Mapping[str, float]]) -> bool:
    """Verdicts exist, or some episodes stop before the others."""
    values = {round(e[key], 6) for e in estimates if key in e}
    return (key == "verdict_accuracy" and bool(values)) or len(values) > 1


def legend(keys: Sequence[str]) -> str:
    """``label = definition`` for each key, in order: the legend of a table."""
    return "; ".join(f"{m.label} = {m.definition}" for m in map(metric, keys))
