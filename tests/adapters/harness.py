"""What the adapter tests share: probe tasks, scripted answers, the cases, and the reference played by the core.

A *driver* (one per engine, in ``tests/adapters/drivers/``) plays a :class:`Case` through its engine's real
interface with a :data:`Script` in place of a model and returns :class:`Played`: what the model saw at each attempt,
each attempt's reward and grade reason, and the engine's own aggregate of the adapter's metrics. The conformance
suite compares that with :func:`reference`, the same case played by ``collect_episodes`` and measured by
``self_correction_metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np

from score_env import registry as score_registry
from score_env.envs.arithmetic import evaluate
from score_env.metrics import self_correction_metrics
from score_env.policies import SamplingParams
from score_env.records import Conversation, Episode, Grade, Problem, flatten
from score_env.registry import register_task
from score_env.rollout import collect_episodes
from score_env.task import PromptTask
from tests.conftest import ScriptedPolicy, turn_of

Script = Callable[[Conversation], str]
SCORE_METRICS = ("delta", "delta_i_to_c", "delta_c_to_i")  # plus acc@t1 ... acc@tT


@dataclass(frozen=True)
class Case:
    """Which problems of which env to play, and with how many attempts."""

    env: str  # env id
    split: str
    max_attempts: int
    indices: tuple[int, ...]
    stop: str = "fixed"  # or "model_decides": verify-then-revise, a self-verdict turn between attempts


@dataclass(frozen=True)
class PlayedEpisode:
    """One episode as an engine saw it."""

    problem_id: str
    prompts: tuple[Conversation, ...]  # what the model answered at each turn (attempts, and verdicts between them)
    rewards: tuple[float, ...]  # each turn's reward, as the engine got it
    reasons: tuple[str, ...]  # each turn's grade reason


@dataclass(frozen=True)
class Played:
    episodes: tuple[PlayedEpisode, ...]  # in the order of the case's indices
    metrics: Mapping[str, float]  # the engine's own aggregate of the adapter's per-episode metrics and rewards by name


class Driver(Protocol):
    def __call__(self, case: Case, script: Script) -> Played: ...


def reference(case: Case, script: Script) -> tuple[list[Episode], dict[str, float]]:
    """The case played by the core rollout loop; metrics by name (acc@t1, ..., delta_c_to_i) and the mean reward of
    each attempt (``attempt_t``: 0 where an episode stopped before it) and of the self-verdicts (``verdicts``)."""
    episodes = flatten(
        collect_episodes(
            lambda: gym.make(case.env, split=case.split, max_attempts=case.max_attempts, stop=case.stop),
            ScriptedPolicy(script),
            list(case.indices),
            SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=64),
        )
    )
    report = self_correction_metrics(episodes, attempts=case.max_attempts, n_bootstrap=10)
    names = [f"acc@t{t}" for t in range(1, case.max_attempts + 1)] + list(SCORE_METRICS)
    metrics = {name: report.estimates[name].value for name in names}
    for t in range(case.max_attempts):
        metrics[f"attempt_{t + 1}"] = float(
            np.mean([e.attempts[t].reward if len(e.attempts) > t else 0.0 for e in episodes])
        )
    metrics["verdicts"] = float(np.mean([sum(v.reward for v in e.verdicts) for e in episodes]))
    return episodes, metrics


# What each scripted answer does at attempts 1, 2, 3: R right, W wrong, U unparsable. Problems cycle through the
# plans, so a case has correct->correct, wrong->right, right->wrong and unparsable attempts.
PLANS = ("RRR", "WRR", "RWW", "UWR", "WUW")


def _plan_step(plan_index: int, conversation: Conversation) -> str:
    return PLANS[plan_index % len(PLANS)][min(turn_of(conversation), 3) - 1]


def arithmetic_script(conversation: Conversation) -> str:
    expression = conversation[0].content.removeprefix("Compute ").split(".")[0]
    value = evaluate(expression)
    match _plan_step(value, conversation):
        case "R":
            return f"Let me compute. Answer: {value}"
        case "W":
            return f"Answer: {value + 1}"
        case _:
            return "I am not sure."


# Probe tasks: words to repeat, graded by exact match; an answer without a letter is unparsable (not an empty one:
# verifiers fails an empty model response itself); "CRASH" makes the grader raise (an `error` grade).
PROBE_PROBLEMS = tuple(
    Problem(f"probe/{i}", f"Say the word {word}.", word)
    for i, word in enumerate(("red", "blue", "green", "black", "white", "pink", "grey"))
)
PROBE_INSTRUCTION = "There might be an error above. Say the word again, correcting it if needed."
PROBE_ENV = "score/AdapterProbe-v0"  # exact grader
PROBE_RIGHT_ENV = "score/AdapterProbeRight-v0"  # accepts every answer
PROBE_WRONG_ENV = "score/AdapterProbeWrong-v0"  # rejects every answer


def grade_probe(problem: Problem, response: str) -> Grade:
    if response == "CRASH":
        raise RuntimeError("the probe grader crashed")
    if not any(c.isalpha() for c in response):
        return Grade.unparsable("no word")
    return Grade.ok(response) if response.strip() == problem.reference else Grade.wrong(response.strip())


# Verify-then-revise (stop="model_decides"): what each scripted answer does at each turn, attempts and self-verdicts
# in turn: R, W, U as above; c "Verdict: correct" (ends the episode), w "Verdict: wrong", n no verdict (revises). So
# a case has verdicts right and wrong about right and wrong attempts, early stops, and a revision that fixes.
VERIFY_PLANS = ("Rc", "WwRc", "RwWc", "Wc", "UnWwR")


def verify_probe_script(conversation: Conversation) -> str:
    word = conversation[0].content.removeprefix("Say the word ").rstrip(".")
    plan = VERIFY_PLANS[[p.reference for p in PROBE_PROBLEMS].index(word) % len(VERIFY_PLANS)]
    match plan[turn_of(conversation) - 1]:
        case "R":
            return word
        case "W":
            return word.upper()
        case "U":
            return "..."
        case "c":
            return "Looks right. Verdict: correct"
        case "w":
            return "Verdict: wrong"
        case _:
            return "I cannot tell."


def probe_script(conversation: Conversation) -> str:
    word = conversation[0].content.removeprefix("Say the word ").rstrip(".")
    match _plan_step([p.reference for p in PROBE_PROBLEMS].index(word), conversation):
        case "R":
            return word
        case "W":
            return word.upper()
        case _:
            return "..."


PROBE_ENVS = (PROBE_ENV, PROBE_RIGHT_ENV, PROBE_WRONG_ENV)

# AdaPO's failure mode, on probe problem 0 ("red") in two attempts, by stop: a policy that answers wrong on purpose at
# attempt 1 and fixes it (verify-then-revise: its verdict says "wrong", rightly) against one right twice (its verdict
# says "correct", which ends the episode). Every adapter's default reward must pay the first no more than the second.
DELIBERATE = {"fixed": ("RED", "red"), "model_decides": ("RED", "Verdict: wrong", "red")}
RIGHT_TWICE = {"fixed": ("red", "red"), "model_decides": ("red", "Verdict: correct")}


def scripted_turns(responses: tuple[str, ...]) -> Script:
    """A script that gives ``responses[t - 1]`` at turn t, whatever it is shown."""
    return lambda conversation: responses[turn_of(conversation) - 1]


def register_probe_tasks() -> None:
    """Register the probe tasks (a user's own tasks, as README's "Register your own task" does). Idempotent."""
    graders: dict[str, Callable[[Problem, str], Grade]] = {
        PROBE_ENV: grade_probe,
        PROBE_RIGHT_ENV: lambda p, r: Grade.ok(r),
        PROBE_WRONG_ENV: lambda p, r: Grade.wrong(r),
    }
    for env_id, grade in graders.items():

        def make_task(split: str = "test", grade=grade) -> PromptTask:
            return PromptTask("probe", PROBE_PROBLEMS, lambda p: p.question, PROBE_INSTRUCTION, grade)

        short = env_id.removeprefix("score/").removesuffix("-v0").lower()
        register_task(env_id, make_task, short_name=short, description="adapter tests' probe", splits=("test",))


def unregister_probe_tasks() -> None:
    """Take the probe tasks out of both catalogues again, so that tests of other packages, which list the registered
    envs (error messages, `score-env envs`), see the catalogue they expect. The registry has no public way to do
    this: test code only."""
    for env_id in PROBE_ENVS:
        score_registry._SPECS.pop(env_id, None)
        gym.registry.pop(env_id, None)


CASES = {
    "arithmetic-2-attempts": Case("score/Arithmetic-v0", "test", 2, tuple(range(12))),
    "user-task-3-attempts": Case(PROBE_ENV, "test", 3, tuple(range(len(PROBE_PROBLEMS)))),
    "verify-then-revise-3-attempts": Case(PROBE_ENV, "test", 3, tuple(range(len(PROBE_PROBLEMS))), "model_decides"),
}
SCRIPTS: dict[str, Script] = {
    "arithmetic-2-attempts": arithmetic_script,
    "user-task-3-attempts": probe_script,
    "verify-then-revise-3-attempts": verify_probe_script,
}
