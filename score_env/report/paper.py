"""The SCoRe paper's numbers, shown beside ours for shape (not scale): MATH-500 with Gemini 1.5 Flash (Kumar et al.,
2024, Tables 3 and 4)."""

from __future__ import annotations

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


def paper_section() -> list[str]:
    return [
        "## The paper's numbers, for reference (MATH-500, Gemini 1.5 Flash; shape, not scale, is comparable)",
        "",
        "| method | Acc@t1 | Acc@t2 | Δ | Δi→c | Δc→i |",
        "|---|---|---|---|---|---|",
        *[f"| {n} | {a} | {b} | {d} | {ic} | {ci} |" for n, a, b, d, ic, ci in PAPER_MATH],
        "",
        f"Ablations (Acc@t1 / Acc@t2 / Δ): {PAPER_ABLATIONS}.",
    ]
