"""``score-env validate``: prove a task's reward before training on it, for the built-in tasks and a user's own.

A battery of checks (``checks``) on a sample of the env's problems, each answer graded the way a run grades it
(through the env, ``grading``): the reference responses earn 1, answers that solve nothing and the canaries of the
task's answer family earn 0 and are never ``error`` (``canaries``), nothing about attempt 1's correctness reaches
what the model sees next, the same answer gets the same grade, grading stays within the task's time limit and never
hangs, and for code tasks nothing reaches the host (``host``). The result is one table and ``validate.json``
(``records``); ``score_env.testing.assert_valid_env`` runs the same battery in a user's test suite.

What a task can declare (all optional): ``family`` (``"math"``, ``"code"``, ``"arithmetic"``: whose canaries apply),
``reference_response(problem)`` (a response that must earn 1, or None), ``canaries`` (answers that must earn 0: a
list, or a function of the problem).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from score_env.preflight import GraderDoesNotReturn, check_env_choice, env_factory, import_tasks
from score_env.registry import resolve_env
from score_env.task import ResolvesArguments
from score_env.validate import checks
from score_env.validate.canaries import FAMILIES, Probe, canaries, code_canaries, floor_answers
from score_env.validate.grading import Player
from score_env.validate.host import watch_host
from score_env.validation import CheckResult, ValidationReport, example, percentile
from score_env.watchdog import GraderHung, within

DEFAULT_LIMIT_S = 30.0  # per answer, for a task that states no time limit of its own (timeout_s)
LEAK_PROBLEMS = 2  # problems the intrinsic-leak check plays episodes on


def validate_env(
    env: str,
    *,
    split: str | None = None,
    problems: int = 4,
    env_kwargs: Mapping[str, Any] | None = None,
    imports: Sequence[str] = (),
    seed: int = 0,
    limit_s: float | None = None,
    say: Callable[[str], None] | None = None,
) -> ValidationReport:
    """Run the battery on ``problems`` problems of ``env`` (a sample drawn with ``seed``) and return the report.
    ``limit_s``: the longest one answer may take to grade (default: twice the task's ``timeout_s`` plus 5 s, or
    30 s); a grader that takes three times that is hung, and the battery stops there. ``say``: progress lines."""
    say = say or (lambda line: print(line, file=sys.stderr))
    import_tasks(imports)
    spec = resolve_env(env)
    split = split or ("test" if "test" in spec.splits else spec.splits[0])
    env_id, _ = check_env_choice(env, split)
    limit_s = limit_s or _limit(spec.arguments().model_fields, dict(env_kwargs or {}))
    try:
        factory = env_factory(env_id, split, "intrinsic", dict(env_kwargs or {}), grade_bound_s=3 * limit_s)
    except GraderDoesNotReturn as hung:  # the preflight's own check: an empty response already hangs it
        return ValidationReport(env_id, split, dict(env_kwargs or {}), (), seed, (_hung(str(hung), 3 * limit_s),))
    envs = factory.open()
    try:
        task = envs.task
        indices = sorted(random.Random(seed).sample(range(len(task.problems)), min(problems, len(task.problems))))
        backend = task.resolved_arguments().get("sandbox") if isinstance(task, ResolvesArguments) else None
        player = Player(envs, bound_s=3 * limit_s)
        with watch_host() if backend else nullcontext() as watch:
            results = _battery(player, task, indices, limit_s, seed, watch, say)
            if watch is not None:
                results.append(checks.isolation(watch.effects(), backend))
        latency = _latency(player.seconds)
        return ValidationReport(env_id, split, dict(factory.kwargs), tuple(task.problems[i].id for i in indices), seed,
                                tuple(results), backend, latency)  # fmt: skip
    finally:
        try:
            within(60.0, envs.close, "closing the task")
        except GraderHung:
            say("the task did not close within 60 s (its grader is still running); left behind")


def _battery(player: Player, task: Any, indices: list[int], limit_s: float, seed: int, watch: Any,
             say: Callable[[str], None]) -> list[CheckResult]:  # fmt: skip
    family = getattr(task, "family", None)
    reference = getattr(task, "reference_response", None)
    own = getattr(task, "canaries", ()) or ()
    family_probes = FAMILIES.get(family) if family != "code" or watch is None else (
        lambda p: code_canaries(p, watch.mark))  # fmt: skip
    problems = [(i, task.problems[i]) for i in indices]
    first = problems[:1]
    refs = [(i, p, reference(p) if reference else None) for i, p in problems]
    floor_items = _on(problems, lambda p: floor_answers(p, _prompt_text(task, p), seed))
    canary_items = _on(problems, lambda p: canaries(family_probes, p, own))
    if watch is not None and first:
        entry = str(first[0][1].metadata.get("entry_point") or "solution")
        canary_items += [(first[0][0], first[0][1], probe) for probe in watch.probes(entry)]
    results: list[CheckResult] = []
    graded: list[checks.Graded] = []
    try:
        say(f"completeness: {sum(t is not None for _, _, t in refs)} reference responses")
        references = checks.grade_all(player, [(i, p, Probe("reference", t)) for i, p, t in refs if t is not None])
        results.append(checks.completeness(references, sum(t is None for _, _, t in refs)))
        say(f"floor: {len(floor_items)} answers that solve nothing")
        floor_graded = checks.grade_all(player, floor_items)
        results.append(checks.result("floor", floor_graded, checks.earns_or_errs, checks.FLOOR_NOTE))
        say(f"canaries: {len(canary_items)}")
        canary_graded = checks.grade_all(player, canary_items)
        results.append(checks.canary_check(canary_graded, family))
        graded = references + floor_graded + canary_graded
        say("intrinsic leak: episodes after a right and a wrong attempt 1")
        wrong = {i: next(pr.text for pr in floor_answers(p, "", seed) if pr.kind == "random text") for i, p in problems}
        pairs = [(i, p, t, wrong[i]) for i, p, t in refs if t is not None][:LEAK_PROBLEMS]
        results.append(checks.intrinsic_leak(player, pairs))
        say("determinism: every quick answer graded again")
        results.append(checks.determinism(player, graded))
    except GraderHung as hung:
        results.append(_hung(f"{hung}: the battery stopped here", 3 * limit_s, len(player.seconds) + 1))
        return results
    results.append(checks.bounds(graded, limit_s, _latency(player.seconds)))
    return results


def _on(problems: list[tuple[int, Any]], probes: Callable[[Any], list[Probe]]) -> list[tuple[int, Any, Probe]]:
    """Each problem's probes; those slow by design (``once``) on the first problem only."""
    return [(i, p, probe) for n, (i, p) in enumerate(problems) for probe in probes(p) if n == 0 or not probe.once]


def _hung(why: str, bound_s: float, tried: int = 1) -> CheckResult:
    return CheckResult("bounds", "fail", tried, 1, (example("-", "grading", "", None, "hung", bound_s, why),), why)


def _prompt_text(task: Any, problem: Any) -> str:
    """The first prompt as text (its user turns): what "the prompt echoed back" answers."""
    return "\n".join(m.content for m in task.first_prompt(problem) if m.role == "user")


def _limit(arguments: Mapping[str, Any], kwargs: Mapping[str, Any]) -> float:
    """Twice the task's own time limit (its ``timeout_s`` argument) plus 5 s of start-up and load, else the
    default."""
    timeout = kwargs.get("timeout_s", arguments["timeout_s"].default if "timeout_s" in arguments else None)
    return 2 * float(timeout) + 5.0 if isinstance(timeout, int | float) else DEFAULT_LIMIT_S


def _latency(seconds: Sequence[float]) -> dict[str, float]:
    total = sum(seconds)
    return {
        "p50_s": percentile(seconds, 0.5),
        "p99_s": percentile(seconds, 0.99),
        "max_s": max(seconds, default=0.0),
        "per_second": len(seconds) / total if total else 0.0,
        "answers": float(len(seconds)),
    }


__all__ = ["ValidationReport", "validate_env"]
