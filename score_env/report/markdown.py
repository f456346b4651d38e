"""``results.md``: the benchmark's tables (greedy and sampled, per seed and across seeds), what holds across seeds,
the analyses, the paper's numbers for shape, and a definition of every column."""

from __future__ import annotations

from collections.abc import Sequence

from score_env.benchmark.aggregate import by_method, run_facts, spread
from score_env.benchmark.compare import pooled_estimate
from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.metric_catalogue import (
    CHANGE,
    FACTS,
    HEADLINE,
    WHEN_PRESENT,
    Metric,
    fact_columns,
    legend,
    metric,
    table_columns,
)
from score_env.report.correction import correction_section, probes_section, significance_section
from score_env.report.paper import paper_section
from score_env.text import escape_text

Outcome = MethodResult | MethodFailure
SAMPLED = ("pass@2", "maj@2")
CELLS = """One seed: value [bootstrap 95% interval over problems]; several: the mean over seeds [95% interval resampling
seeds, then problems] ± the standard deviation over seeds. Rates in %. pass@2 and maj@2 are what a second attempt's
compute buys without correcting."""


def columns_legend() -> str:
    """Every column of the tables below the headline, defined by the metric catalogue."""
    keys = (*HEADLINE, *WHEN_PRESENT, *CHANGE, *FACTS, *SAMPLED)
    return f"Columns: {legend(keys)}.\n{CELLS}"


def results_markdown(outcomes: Sequence[Outcome], provenance: Sequence[str]) -> str:
    table = by_method(outcomes)
    methods = list(dict.fromkeys(o.name for o in outcomes))
    seeds = sorted({o.seed for o in outcomes})
    lines = ["# score-env benchmark", "", *provenance, ""]
    intrinsic = [m for m in methods if all(r.setting == "intrinsic" for r in table.get(m, {}).values())]
    oracle = [m for m in methods if m not in intrinsic]
    lines += correction_section(table, intrinsic, seeds)
    lines += ["## Greedy evaluation on the methods' own attempts (the paper's protocol)", ""]
    lines += [*_main_table(table, intrinsic, seeds), ""]
    if oracle:
        lines += [
            "## Oracle feedback (a different setting: the model is told whether it was right; not comparable with the",
            "intrinsic methods above)",
            "",
            *_main_table(table, oracle, seeds),
            "",
        ]
    lines += _failures(outcomes)
    lines += _sampled_table(table, methods)
    lines += significance_section(table, intrinsic)
    lines += probes_section(table, methods)
    lines += _per_seed(table, methods, seeds)
    lines += _ceiling(table)
    lines += _shift_section(table)
    lines += _scaling_sections(table)
    lines += ["", columns_legend(), "", *paper_section()]
    return "\n".join(lines) + "\n"


def _cell(runs: dict[int, MethodResult], m: Metric) -> str:
    """One seed: value [bootstrap 95% interval over problems]; several: the mean [interval over seeds, then
    problems] ± the standard deviation over seeds."""
    if len(runs) == 1:
        e = next(iter(runs.values())).report.estimates[m.key]
        return f"{m.text(e.value)} {m.interval(e.low, e.high)}"
    s = spread(runs, m.key)
    pooled = pooled_estimate(runs, m.key)
    interval = f" {m.interval(pooled.low, pooled.high)}" if pooled else ""
    return f"{m.text(s.mean)}{interval} ± {m.text(s.std)}"


def _main_table(table: dict[str, dict[int, MethodResult]], methods: list[str], seeds: list[int]) -> list[str]:
    """The catalogue's table columns (the viewer shows the same), then the runs' facts."""
    runs_of = [table[n] for n in methods if table.get(n)]
    columns = table_columns([_values(r) for runs in runs_of for r in runs.values()])
    facts = fact_columns([run_facts(r.report, r) for runs in runs_of for r in runs.values()])
    lines = [
        "| method | " + " | ".join(m.label for m in (*columns, *facts)) + " |",
        "|---" * (1 + len(columns) + len(facts)) + "|",
    ]
    for name in methods:
        runs = table.get(name)
        if not runs:
            continue
        cells = [_cell(runs, m) if m.key in HEADLINE else _mean(runs, m) for m in columns]
        cells += [_fact(runs, m) for m in facts]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append("")
    lines.append(f"{len(seeds)} seed(s): {', '.join(map(str, seeds))}.")
    return lines


def _values(run: MethodResult) -> dict[str, float]:
    return {k: e.value for k, e in run.report.estimates.items()}


def _mean(runs: dict[int, MethodResult], m: Metric) -> str:
    values = [r.report.estimates[m.key].value for r in runs.values() if m.key in r.report.estimates]
    return m.text(sum(values) / len(values)) if values else "–"


def _fact(runs: dict[int, MethodResult], m: Metric) -> str:
    """The first seed's (the same for every seed), but grader errors summed over the seeds."""
    facts = [run_facts(r.report, r) for r in runs.values()]
    if m.key == "errors":
        return m.text(sum(f["errors"] for f in facts))
    return m.text(facts[0][m.key]) if m.key in facts[0] else "–"


def _failures(outcomes: Sequence[Outcome]) -> list[str]:
    failed = [o for o in outcomes if isinstance(o, MethodFailure)]
    lines = [f"- {o.name} (seed {o.seed}) failed: {escape_text(o.error, one_line=True)}" for o in failed]
    return lines + ([""] if failed else [])


def _sampled_table(table: dict[str, dict[int, MethodResult]], methods: list[str]) -> list[str]:
    rows = []
    for name in methods:
        runs = {s: r for s, r in table.get(name, {}).items() if r.sampled is not None}
        if not runs:
            continue
        sampled = {s: _as_result(r) for s, r in runs.items()}
        pass2 = sum(r.sampled.pass_at_2 for r in runs.values() if r.sampled) / len(runs)
        maj2 = sum(r.sampled.majority_at_2 for r in runs.values() if r.sampled) / len(runs)
        cells = " | ".join(_cell(sampled, metric(m)) for m in HEADLINE)
        pass2_maj2 = " | ".join(metric(m).text(v) for m, v in zip(SAMPLED, (pass2, maj2), strict=True))
        rows.append(f"| {name} | {cells} | {pass2_maj2} |")
    if not rows:
        return []
    first = next(r.sampled for runs in table.values() for r in runs.values() if r.sampled)
    return [
        f"## Sampled evaluation: averages over {first.samples} samples per problem, temperature {first.temperature:g}",
        "",
        "| method | " + " | ".join(metric(m).label for m in (*HEADLINE, *SAMPLED)) + " |",
        "|---" * (len(HEADLINE) + len(SAMPLED) + 1) + "|",
        *rows,
        "",
        "Compute-matched: a second attempt costs what a second independent sample does; pass@2 and maj@2 are what",
        "that compute buys without correction (beside Acc@final).",
        "",
    ]


def _as_result(run: MethodResult) -> MethodResult:
    """The sampled evaluation in the place of the greedy one (to reuse the cell formatting)."""
    from dataclasses import replace

    assert run.sampled is not None
    return replace(run, report=run.sampled.report, own=run.sampled.own)


def _per_seed(table: dict[str, dict[int, MethodResult]], methods: list[str], seeds: list[int]) -> list[str]:
    if len(seeds) < 2:
        return []
    columns = [metric(k) for k in HEADLINE]
    head = "| method | seed | " + " | ".join(m.label for m in columns) + " |"
    lines = ["## Per seed", "", head, "|---" * (2 + len(columns)) + "|"]
    for name in methods:
        for seed, run in sorted(table.get(name, {}).items()):
            cells = " | ".join(m.text(run.report.estimates[m.key].value) for m in columns)
            lines.append(f"| {name} | {seed} | {cells} |")
    return [*lines, ""]


def _ceiling(table: dict[str, dict[int, MethodResult]]) -> list[str]:
    values = [r.ceiling for runs in table.values() for r in runs.values() if r.ceiling is not None]
    if not values:
        return []
    mean = 100 * sum(values) / len(values)
    return [
        f"Correction ceiling of the base model: {mean:.1f}% of its wrong greedy first attempts are right in at least",
        "one of the sampled second attempts after them (temperature 1; the number of samples is `ceiling_samples`).",
        "",
    ]


def _shift_section(table: dict[str, dict[int, MethodResult]]) -> list[str]:
    rows = []
    for name, runs in table.items():
        shifts = [r.shift for r in runs.values() if r.shift is not None]
        if shifts:
            own = 100 * sum(s.own_first_attempts for s in shifts) / len(shifts)
            base = 100 * sum(s.base_first_attempts for s in shifts) / len(shifts)
            rows.append(f"| {name} | {own:.1f} | {base:.1f} |")
    if not rows:
        return []
    return [
        "## Distribution shift: correction rate P(right at t2 | wrong at t1), mean over seeds",
        "",
        "| method | on its own first attempts | on the base model's first attempts |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _scaling_sections(table: dict[str, dict[int, MethodResult]]) -> list[str]:
    lines: list[str] = []
    for name, runs in table.items():
        for seed, run in sorted(runs.items()):
            if run.scaling is None:
                continue
            curve = run.scaling
            lines += [
                f"## Inference-compute scaling ({name}, seed {seed}): majority-vote accuracy at a budget of 2K samples",
                "",
                "| K | 2K parallel first attempts | K x (attempt + correction) |",
                "|---|---|---|",
            ]
            lines += [
                f"| {k} | {100 * p:.1f} | {100 * s:.1f} |"
                for k, p, s in zip(curve.k, curve.parallel, curve.sequential, strict=True)
            ]
            lines.append("")
    return lines
