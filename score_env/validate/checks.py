"""The checks of ``score-env validate``, one function each: what it tries, and what counts as a failure.

- completeness: each reference response (``Task.reference_response``) earns reward 1;
- floor: answers that solve nothing earn 0, never ``error`` (a malformed answer is the model's failure);
- canaries: the family's and the task's own answers that must earn 0, never ``error``;
- intrinsic leak: after a right and a wrong attempt 1, what the model sees next is the same (but for its own
  attempt), under ``stop=fixed`` and ``stop=model_decides`` (there also the episode's continuation and length);
- determinism: the same answer graded twice gets the same grade;
- bounds: no answer takes longer to grade than the task's time limit (and grading never hangs); the latency p50 and
  p99 and the throughput are in the note;
- isolation: for code tasks, the backend that ran, and no file, connection or process of an answer reached the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from score_env.records import Problem
from score_env.validate.canaries import Probe
from score_env.validate.grading import Outcome, Player
from score_env.validation import CheckResult, Example, example

MASK = "<attempt>"
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Graded:
    """A probe and its outcome on one problem."""

    index: int
    problem: Problem
    probe: Probe
    outcome: Outcome

    def example(self) -> Example:
        o = self.outcome
        return example(self.problem.id, self.probe.kind, self.probe.text, o.reward, o.reason, o.seconds, o.detail)


def grade_all(player: Player, items: Sequence[tuple[int, Problem, Probe]]) -> list[Graded]:
    return [Graded(i, p, probe, player.grade(i, probe.text)) for i, p, probe in items]


def result(name: str, graded: Sequence[Graded], bad: Callable[[Graded], bool], note: str = "") -> CheckResult:
    """``fail`` when any graded answer is ``bad``, with the first of them as examples."""
    failures = [g for g in graded if bad(g)]
    shown = failures or sorted(graded, key=lambda g: -g.outcome.seconds)[:1]
    return CheckResult(
        name,
        "fail" if failures else "pass",
        len(graded),
        len(failures),
        tuple(g.example() for g in shown[:MAX_EXAMPLES]) if failures else (),
        note,
    )


def earns_or_errs(graded: Graded) -> bool:
    """What the floor and the canaries must not do: earn anything, or be graded ``error`` (the model's failure
    made to look like ours)."""
    return graded.outcome.reward != 0.0 or graded.outcome.reason == "error"


FLOOR_NOTE = "answers that solve nothing earn 0, never error"


def completeness(graded: Sequence[Graded], without: int) -> CheckResult:
    """``graded``: the reference responses; ``without``: sampled problems the task gave none for."""
    if not graded:
        return CheckResult("completeness", "skip", 0, note="the task gives no reference_response: nothing to check")
    note = f"{without} sampled problem(s) without a reference" if without else "every reference earns 1"
    return result("completeness", graded, lambda g: g.outcome.reward != 1.0, note)


def canary_check(graded: Sequence[Graded], family: str | None) -> CheckResult:
    if not graded:
        return CheckResult("canaries", "skip", 0, note="no family canaries (family unknown) and no Task.canaries")
    kinds = "the task's own" if family is None else f"the {family} family's and the task's own"
    return result("canaries", graded, earns_or_errs, f"{kinds}: each earns 0, never error")


def _masked(observation: tuple[dict, ...], attempt: str) -> tuple[tuple[str, str], ...]:
    """The observation with the model's own attempt replaced by a mark (the only part that may differ)."""
    return tuple(
        (m["role"], MASK if m["role"] == "assistant" and m["content"] == attempt else m["content"]) for m in observation
    )


def intrinsic_leak(player: Player, pairs: Sequence[tuple[int, Problem, str, str]]) -> CheckResult:
    """``pairs``: problem, a right answer, a wrong one. The episodes after each must look the same."""
    name = "intrinsic leak"
    if not pairs:
        return CheckResult(name, "skip", 0, note="no reference answer to make a right attempt 1 with")
    failures: list[Example] = []
    tried = 0
    scripts = {"fixed": ["second attempt"], "model_decides": ["Verdict: wrong", "second attempt"]}
    for index, problem, right, wrong in pairs:
        if player.grade(index, right).reward != 1.0 or player.grade(index, wrong).reward != 0.0:
            continue  # no right/wrong pair here (completeness or floor says why)
        for stop, then in scripts.items():
            tried += 1
            seen = [
                [(_masked(obs, answer), done, cut) for obs, done, cut in player.episode(index, [answer, *then], stop)]
                for answer in (right, wrong)
            ]
            if seen[0] != seen[1]:
                where = _first_difference(*seen) + 1
                why = f"what follows step {where} differs after a right and a wrong attempt 1"
                failures.append(example(problem.id, f"stop={stop}", wrong, None, "leak", 0.0, why))
    if not tried:
        return CheckResult(name, "skip", 0, note="no sampled problem had a right and a wrong answer to compare")
    note = "what follows a right and a wrong attempt 1 is the same (stop=fixed, model_decides)"
    status = "fail" if failures else "pass"
    return CheckResult(name, status, tried, len(failures), tuple(failures[:MAX_EXAMPLES]), note)


def _first_difference(a: Sequence, b: Sequence) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def determinism(player: Player, graded: Sequence[Graded]) -> CheckResult:
    """Grade again what graded quickly the first time; every grade must be the same."""
    again = [g for g in graded if not g.probe.once]
    changed = []
    for g in again:
        second = player.grade(g.index, g.probe.text)
        if not second.same_grade(g.outcome):
            o = second
            changed.append(example(g.problem.id, g.probe.kind, g.probe.text, o.reward, o.reason, o.seconds,
                                   f"first time: reward {g.outcome.reward:g}, {g.outcome.reason}"))  # fmt: skip
    return CheckResult("determinism", "fail" if changed else "pass", len(again), len(changed),
                       tuple(changed[:MAX_EXAMPLES]), "the same answer graded twice gets the same grade")  # fmt: skip


def bounds(graded: Sequence[Graded], limit_s: float, latency: dict[str, float]) -> CheckResult:
    late = sorted((g for g in graded if g.outcome.seconds > limit_s), key=lambda g: -g.outcome.seconds)
    note = (
        f"p50 {latency['p50_s'] * 1000:.1f} ms, p99 {latency['p99_s'] * 1000:.1f} ms, max {latency['max_s']:.2f} s, "
        f"{latency['per_second']:.1f} answers/s; limit {limit_s:g} s per answer"
    )
    return CheckResult("bounds", "fail" if late else "pass", len(graded), len(late),
                       tuple(g.example() for g in late[:MAX_EXAMPLES]), note)  # fmt: skip


def isolation(effects: Sequence[str], backend: str | None) -> CheckResult:
    """A code task's answers ran in ``backend``; ``effects``: what of theirs reached the host (``host``)."""
    found = tuple(example("host", "host effect", e, None, "escaped", 0.0) for e in effects)
    note = f"backend {backend}: no file, connection or process of an answer reached the host"
    return CheckResult("isolation", "fail" if found else "pass", 1, len(found), found[:MAX_EXAMPLES], note)
