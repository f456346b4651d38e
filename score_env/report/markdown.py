"""``results.md``: the benchmark's tables (greedy and sampled, per seed and across seeds), what holds across seeds,
the analyses, the paper's numbers for shape, and a definition of every column."""

from __future__ import annotations

from collections.abc import Sequence

from score_env.benchmark.aggregate import by_method, spread
from score_env.benchmark.compare import pooled_estimate
from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.report.correction import correction_section, probes_section, significance_section
from score_env.report.paper import paper_section
from score_env.text import escape_text

Outcome = MethodResult | MethodFailure
MAIN = ("acc@t1", "acc@final", "delta", "delta_i_to_c", "delta_c_to_i")
LABELS = {
    "acc@t1": "Acc@t1",
    "acc@final": "Acc@t2 (final)",
    "delta": "Δ(t1,final)",
    "delta_i_to_c": "Δi→c",
    "delta_c_to_i": "Δc→i",
    "attempts": "attempts",
    "verdict_accuracy": "verdict acc.",
}
COLUMNS = """Columns: Acc@t1 / Acc@t2 = share of problems right at attempt 1 / 2; Δ(t1,t2) = Acc@t2 − Acc@t1 =
Δi→c − Δc→i; Δi→c = share wrong at attempt 1 and right at attempt 2; Δc→i = right then wrong (all in %);
edit ratio = insert/delete edit distance between the two attempts over their total length (0 = unchanged);
answer changed = share of episodes whose extracted answer changed; lr = the learning rate the method trained with;
attempts = mean attempts per episode (below the maximum when the model's own verdict or the oracle ends episodes
early); verdict acc. = share of self-verdicts right about the attempt they judge (verify-then-revise); Acc@t2 (final)
= the answer an episode ends on (Acc@t2 for two attempts); updates / episodes = gradient updates made and training
episodes sampled; errors = attempts graded `error` (the
grader or sandbox failed: no reward signal, left out of training); pass@2 / maj@2 = two independent first
attempts, at least one right / a majority vote between them (a tie counts half): what a second attempt's compute
buys without correcting. One seed: value [bootstrap 95% interval over problems]; several: the mean over seeds
[95% interval resampling seeds, then problems] ± the standard deviation over seeds."""


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
    lines += ["", COLUMNS, "", *paper_section()]
    return "\n".join(lines) + "\n"


def _cell(runs: dict[int, MethodResult], metric: str) -> str:
    """One seed: value [bootstrap 95% interval over problems]; several: the mean [interval over seeds, then
    problems] ± the standard deviation over seeds."""
    if len(runs) == 1:
        e = next(iter(runs.values())).report.estimates[metric]
        return f"{100 * e.value:.1f} [{100 * e.low:.1f}, {100 * e.high:.1f}]"
    s = spread(runs, metric)
    pooled = pooled_estimate(runs, metric)
    interval = f" [{100 * pooled.low:.1f}, {100 * pooled.high:.1f}]" if pooled else ""
    return f"{100 * s.mean:.1f}{interval} ± {100 * s.std:.1f}"


def _main_table(table: dict[str, dict[int, MethodResult]], methods: list[str], seeds: list[int]) -> list[str]:
    runs_of = [table[n] for n in methods if table.get(n)]
    extra = [m for m in ("attempts", "verdict_accuracy") if _varies(runs_of, m)]
    labels = " | ".join(LABELS[m] for m in (*MAIN, *extra))
    lines = [
        f"| method | lr | {labels} | edit ratio | answer changed | updates | episodes | errors |",
        "|---" * (len(MAIN) + len(extra) + 7) + "|",
    ]
    for name in methods:
        runs = table.get(name)
        if not runs:
            continue
        first = next(iter(runs.values()))
        cells = [_cell(runs, m) for m in MAIN] + [_plain(runs, m) for m in extra]
        edit = sum(r.report.estimates["edit_distance_ratio"].value for r in runs.values()) / len(runs)
        changed = sum(r.report.estimates["answer_changed"].value for r in runs.values()) / len(runs)
        lr = f"{first.lr:g}" if first.lr is not None else "–"
        errors = sum(n for r in runs.values() for t in r.report.reasons.values() for k, n in t.items() if k == "error")
        lines.append(
            f"| {name} | {lr} | {' | '.join(cells)} | {edit:.3f} | {100 * changed:.1f} | {first.updates} | "
            f"{first.episodes_sampled} | {errors} |"
        )
    lines.append("")
    lines.append(f"{len(seeds)} seed(s): {', '.join(map(str, seeds))}.")
    return lines


def _varies(runs_of: list[dict[int, MethodResult]], metric: str) -> bool:
    """Whether a column is worth showing: verdicts exist, or some episodes stop before the others."""
    values = {round(r.report.estimates[metric].value, 6) for runs in runs_of for r in runs.values()
              if metric in r.report.estimates}  # fmt: skip
    return (metric == "verdict_accuracy" and bool(values)) or len(values) > 1


def _plain(runs: dict[int, MethodResult], metric: str) -> str:
    values = [r.report.estimates[metric].value for r in runs.values() if metric in r.report.estimates]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    return f"{mean:.2f}" if metric == "attempts" else f"{100 * mean:.1f}"


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
        cells = " | ".join(_cell(sampled, m) for m in MAIN)
        rows.append(f"| {name} | {cells} | {100 * pass2:.1f} | {100 * maj2:.1f} |")
    if not rows:
        return []
    first = next(r.sampled for runs in table.values() for r in runs.values() if r.sampled)
    return [
        f"## Sampled evaluation: averages over {first.samples} samples per problem, temperature {first.temperature:g}",
        "",
        "| method | " + " | ".join(LABELS[m] for m in MAIN) + " | pass@2 (t1) | maj@2 (t1) |",
        "|---" * (len(MAIN) + 3) + "|",
        *rows,
        "",
        "Compute-matched: a second attempt costs what a second independent sample does; pass@2 and maj@2 are what",
        "that compute buys without correction (beside Acc@t2).",
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
    lines = ["## Per seed", "", "| method | seed | " + " | ".join(LABELS[m] for m in MAIN) + " |", "|---" * 7 + "|"]
    for name in methods:
        for seed, run in sorted(table.get(name, {}).items()):
            cells = " | ".join(f"{100 * run.report.estimates[m].value:.1f}" for m in MAIN)
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
