"""``results.md``: the benchmark's table in the paper's shape, with the paper's numbers beside it."""

from __future__ import annotations

from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.metrics import Estimate

# SCoRe paper, MATH-500 with Gemini 1.5 Flash (shared/PAPER.md, "Results to compare against").
PAPER_MATH = [
    ("base model (prompted)", 52.6, 41.4, -11.2, 4.6, 15.8),
    ("Self-Refine", 52.8, 51.8, -1.0, 3.2, 4.2),
    ("STaR+", 53.6, 54.0, 0.4, 2.6, 2.2),
    ("Pair-SFT", 52.4, 54.2, 1.8, 5.4, 3.6),
    ("SCoRe", 60.0, 64.4, 4.4, 5.8, 1.4),
]
PAPER_ABLATIONS = (
    "SCoRe 60.0/64.4/4.4; single-turn RL 61.8/59.4/-2.4; w/o Stage I 59.2/61.4/2.2; w/o shaping 60.0/62.6/2.6"
)
HEADER = (
    "| method | Acc@t1 | Acc@t2 | Δ(t1,t2) | Δi→c | Δc→i | edit ratio | answer changed | tokens | updates | wall s |"
)


def results_markdown(outcomes: tuple[MethodResult | MethodFailure, ...]) -> str:
    lines = ["# score-env benchmark", "", HEADER, "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_row(o) for o in outcomes]
    lines += [
        "",
        "Percentages with bootstrap 95% intervals (resampling problems). Greedy evaluation.",
        "",
        "## The paper's numbers, for reference (MATH-500, Gemini 1.5 Flash; shape, not scale, is comparable)",
        "",
        "| method | Acc@t1 | Acc@t2 | Δ | Δi→c | Δc→i |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {a} | {b} | {d} | {ic} | {ci} |" for n, a, b, d, ic, ci in PAPER_MATH]
    lines += ["", f"Ablations (Acc@t1 / Acc@t2 / Δ): {PAPER_ABLATIONS}.", ""]
    done = [o for o in outcomes if isinstance(o, MethodResult)]
    lines += _shift_section(done) + _scaling_sections(done)
    return "\n".join(lines) + "\n"


def _pct(m: Estimate) -> str:
    return f"{100 * m.value:.1f} [{100 * m.low:.1f}, {100 * m.high:.1f}]"


def _row(outcome: MethodResult | MethodFailure) -> str:
    if isinstance(outcome, MethodFailure):
        return f"| {outcome.name} | failed: {outcome.error} |" + " |" * 10
    m = outcome.report.estimates
    return (
        f"| {outcome.name} | {_pct(m['acc@t1'])} | {_pct(m['acc@t2'])} | {_pct(m['delta'])} | "
        f"{_pct(m['delta_i_to_c'])} | {_pct(m['delta_c_to_i'])} | {m['edit_distance_ratio'].value:.3f} | "
        f"{100 * m['answer_changed'].value:.1f} | {outcome.generated_tokens} | {outcome.updates} | "
        f"{outcome.wall_s:.0f} |"
    )


def _shift_section(done: list[MethodResult]) -> list[str]:
    shifted = [o for o in done if o.shift is not None]
    if not shifted:
        return []
    lines = [
        "## Distribution shift: correction rate P(right at t2 | wrong at t1)",
        "",
        "| method | on its own first attempts | on the base model's first attempts |",
        "|---|---|---|",
    ]
    return lines + [
        f"| {o.name} | {100 * o.shift.own_first_attempts:.1f} | {100 * o.shift.base_first_attempts:.1f} |"
        for o in shifted
        if o.shift is not None
    ]


def _scaling_sections(done: list[MethodResult]) -> list[str]:
    lines: list[str] = []
    for o in done:
        if o.scaling is None:
            continue
        lines += [
            "",
            f"## Inference-compute scaling ({o.name}): accuracy at a budget of 2K samples",
            "",
            "| K | 2K parallel (vote) | K x (attempt + correction) (vote) |",
            "|---|---|---|",
        ]
        curve = o.scaling
        lines += [
            f"| {k} | {100 * p:.1f} | {100 * s:.1f} |"
            for k, p, s in zip(curve.k, curve.parallel, curve.sequential, strict=True)
        ]
    return lines
