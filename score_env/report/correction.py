"""``results.md``'s headline: correction on the base model's fixed first attempts, greedy and sampled side by side,
the paired tests between methods (Holm-corrected) and the minimum detectable difference of each column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from score_env.benchmark.compare import HEADLINE, Table, comparisons, minimum_detectable, pooled_estimate
from score_env.benchmark.results import MethodResult
from score_env.metric_catalogue import FIXED, legend, metric
from score_env.metrics import Estimate

OWN = ("delta", "acc@final")  # on the method's own attempts, where the others are on the base model's
NAMES = {k: metric(k).label + (" (own attempts)" if k in OWN else "") for k in (*FIXED, *OWN)}
EXPLAINED = (
    legend(FIXED)
    + """ (the base model's greedy first attempts are fixed: every method corrects the same ones). Sampled: the same
at the sampled evaluation's temperature, averaged over its samples, on its problems. cut = attempts stopped at the
token budget (t1 / t2, own greedy evaluation). Cells: value [95% interval over problems; with several seeds, over
seeds then problems]."""
)


def correction_section(table: Table, methods: Sequence[str], seeds: Sequence[int]) -> list[str]:
    rows = []
    for name in methods:
        runs = table.get(name, {})
        if not runs or all(r.fixed is None for r in runs.values()):
            continue
        sampled = {s: _sampled_as_fixed(r) for s, r in runs.items() if r.sampled and r.sampled.fixed}
        greedy = [_cell(pooled_estimate(runs, m)) for m in FIXED]
        other = [_cell(pooled_estimate(sampled, m)) if sampled else "–" for m in ("fix", "break")]
        delta = _cell(pooled_estimate(runs, "delta"))
        sampled_delta = [r.sampled.report.estimates["delta"].value for r in runs.values() if r.sampled]
        s_delta = f"{100 * sum(sampled_delta) / len(sampled_delta):+.1f}" if sampled_delta else "–"
        rows.append(f"| {name} | {' | '.join(greedy)} | {' | '.join(other)} | {delta} | {s_delta} | {_cut(runs)} |")
    if not rows:
        return []
    first = next(r.fixed for runs in table.values() for r in runs.values() if r.fixed)
    return [
        "## Correction on the base model's first attempts (the headline)",
        "",
        f"{first.n_wrong} of the base model's greedy first attempts are wrong, {first.n_right} right.",
        "",
        f"| method | {' | '.join(NAMES[k] for k in FIXED)} | {NAMES['fix']} (sampled) | {NAMES['break']} (sampled) "
        f"| {metric('delta').label} greedy | {metric('delta').label} sampled | cut % t1/t2 |",
        "|---" * 10 + "|",
        *rows,
        "",
        EXPLAINED,
        "",
        *_per_seed(table, methods, seeds),
    ]


def significance_section(table: Table, methods: Sequence[str]) -> list[str]:
    tests = comparisons(table, methods)
    if not tests:
        return []
    mdd = minimum_detectable(tests, table)
    lines = [
        "## Which differences hold (paired per problem, with the seed spread, Holm-corrected)",
        "",
        "| method | vs | metric | difference | 95% interval | p | Holm p | holds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in tests:
        c = t.comparison
        verdict = "yes" if t.holds else "no"
        lines.append(
            f"| {t.method} | {t.other} | {NAMES[t.metric]} | {100 * c.difference:+.1f} | "
            f"[{100 * c.low:+.1f}, {100 * c.high:+.1f}] | {_p(c.p)} | {_p(t.adjusted_p)} | {verdict} |"
        )
    lines += [
        "",
        f"{len(tests)} comparisons, Holm-corrected together: every trained method against the base model and SCoRe",
        "against every other method. Fix and break rates: exact sign test with problems as the units (each problem's",
        "outcome averaged over seeds; McNemar's test with one seed); the others: paired bootstrap (seeds, then",
        "problems; p from its standard error). Holds = Holm p < 0.05 and every seed's difference has the same sign.",
        "",
        "Minimum detectable difference (80% power, two-sided 5%, before Holm; from the median spread of the paired",
        "per-problem differences): "
        + ("; ".join(_mdd(m, n, d) for m, (n, d) in mdd.items() if m in HEADLINE) or "not estimable here")
        + ".",
        "",
    ]
    return lines


def probes_section(table: Table, methods: Sequence[str]) -> list[str]:
    """What the learning check's probe saw during training, and any collapse alarm."""
    rows = []
    for name in methods:
        for seed, run in sorted(table.get(name, {}).items()):
            if not run.probes:
                continue
            points = "; ".join(f"{p.stage}: {_plain(p.fix)} / {_plain(p.acc_t1)}" for p in run.probes)
            rows.append(f"| {name} | {seed} | {points} | {' '.join(run.alarms) or '–'} |")
    if not rows:
        return []
    return [
        "## During training: the correction probe (validation problems)",
        "",
        "| method | seed | fix rate / own Acc@t1 at each point | alarm |",
        "|---|---|---|---|",
        *rows,
        "",
        "The fix rate after the base model's frozen greedy first attempts and the policy's own greedy Acc@t1, on",
        "validation problems never trained on: before training, at the end of each stage and at the end. An alarm",
        "flags Acc@t1 falling while the training Δ rises (first attempts made wrong for attempt 2 to fix).",
        "",
    ]


def _plain(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _per_seed(table: Table, methods: Sequence[str], seeds: Sequence[int]) -> list[str]:
    if len(seeds) < 2:
        return []
    head = " | ".join(NAMES[k] for k in ("fix", "break", "fix_minus_control"))
    lines = [f"| method | seed | {head} |", "|---|---|---|---|---|"]
    for name in methods:
        for seed, run in sorted(table.get(name, {}).items()):
            f = run.fixed
            if f is not None:
                cells = [_value(e) for e in (f.fix, f.broken, f.fix_minus_control)]
                lines.append(f"| {name} | {seed} | {' | '.join(cells)} |")
    return [*lines, ""]


def _sampled_as_fixed(run: MethodResult) -> MethodResult:
    assert run.sampled is not None
    return replace(run, fixed=run.sampled.fixed, own=run.sampled.own)


def _cut(runs: dict[int, MethodResult]) -> str:
    shares = []
    for t in (1, 2):
        cut = sum(r.report.counts.get(f"cut_t{t}", 0) for r in runs.values())
        shares.append(100 * cut / sum(r.report.episodes for r in runs.values()))
    return f"{shares[0]:.1f} / {shares[1]:.1f}"


def _cell(estimate: Estimate | None) -> str:
    if estimate is None:
        return "–"
    return f"{100 * estimate.value:.1f} [{100 * estimate.low:.1f}, {100 * estimate.high:.1f}]"


def _value(estimate: Estimate | None) -> str:
    return "–" if estimate is None else f"{100 * estimate.value:.1f}"


def _mdd(metric: str, n: int, mdd: float) -> str:
    if mdd == 0:  # no problem on which any two methods differ: the spread, and so the MDD, cannot be estimated
        return f"{NAMES[metric]} not estimable at n = {n} (no discordant problems)"
    return f"{NAMES[metric]} {100 * mdd:.1f} points at n = {n}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
