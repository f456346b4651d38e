"""The learning check's correction probe: during training, what a method does with the base model's frozen greedy
first attempts on validation problems (never trained on), measured before the first update, at the end of each
stage and after the last update (``probes.jsonl`` in the method's training directory).

A training reward can rise with no correction learnt (attempt 1 getting better lifts reward@t2 too); the fix rate on
frozen first attempts cannot. Acc@t1 there says whether Stage I holds attempt 1 near the base model, and a fall of it
while the correction reward rises is the collapse later work documents (first attempts made wrong on purpose so that
attempt 2 can "fix" them: AdaPO, PAG's appendix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from score_env.correction import correct_fixed
from score_env.evaluation import evaluate_policy
from score_env.policies import SamplingParams
from score_env.records import Attempt
from score_env.registry import EnvFactory
from score_env.training.session import Probe

COLLAPSE_FALL = 0.05  # Acc@t1 on the probe falling by more than this while the training Δ rises raises the alarm


def correction_probe(env: EnvFactory, fixed: Mapping[int, Attempt], max_new_tokens: int) -> Probe:
    """A probe measuring the session's policy: its own greedy Acc@t1 on the probe problems, and its greedy fix and
    break rates after the base model's first attempts there."""
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens)
    problems = sorted(fixed)

    def probe(session: Any) -> dict[str, Any]:
        play: dict[str, Any] = {"sampling": greedy, "seed": 0, "bootstrap": 10}
        own = evaluate_policy(session.policy, partial(env, 1), problems, label="probe, own t1", **play)
        rates = correct_fixed(session.policy, env, fixed, own.episodes, label="probe, fixed t1", **play).rates
        found: dict[str, Any] = {"acc@t1": own.report.estimates["acc@t1"].value}
        for name, estimate in (("fix", rates.fix), ("break", rates.broken), ("control", rates.control)):
            if estimate is not None:
                found[name] = estimate.value
        wrong = [not right for right in rates.first_right]
        # per base-wrong problem (in order): attempt 2 right, for a paired test between two probes
        found["fixed"] = [int(v) for v, w in zip(rates.second_right, wrong, strict=True) if w]
        return found

    return probe


def collapse_alarm(probes: Sequence[Mapping[str, Any]], metrics: Sequence[Mapping[str, Any]]) -> str | None:
    """The alarm when the probe's Acc@t1 fell by more than ``COLLAPSE_FALL`` from the start to the end while the
    training Δ (reward@t2 − reward@t1, first fifth of the updates vs the last fifth) rose; None otherwise."""
    if len(probes) < 2 or probes[0].get("stage") != "start" or "acc@t1" not in probes[-1]:
        return None  # no baseline before training: nothing to compare with
    deltas = [m["reward@t2"] - m["reward@t1"] for m in metrics if "reward@t2" in m and "reward@t1" in m]
    if len(deltas) < 4:
        return None
    fifth = max(2, len(deltas) // 5)
    rise = sum(deltas[-fifth:]) / fifth - sum(deltas[:fifth]) / fifth
    fall = probes[0]["acc@t1"] - probes[-1]["acc@t1"]
    if fall > COLLAPSE_FALL and rise > 0:
        return (
            f"collapse: Acc@t1 on the probe fell {100 * fall:.1f} points (step {probes[0]['step']} to "
            f"{probes[-1]['step']}) while the training Δ rose {100 * rise:+.1f} points: first attempts may be made "
            "wrong for attempt 2 to fix"
        )
    return None
