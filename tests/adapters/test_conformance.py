"""One suite, every adapter: a scripted policy played through each engine's real package gets exactly the rewards,
grades, prompts and metrics that the core rollout loop (``collect_episodes`` + ``self_correction_metrics``) gets."""

from __future__ import annotations

import pytest

from score_env.records import Conversation
from score_env.text import escape_surrogates
from tests.adapters.harness import (
    CASES,
    PROBE_PROBLEMS,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    SCRIPTS,
    Case,
    reference,
)
from tests.conftest import turn_of
from tests.hostile import HOSTILE


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_rewards_prompts_and_metrics_equal_the_core_rollout(driver, case_name):
    case, script = CASES[case_name], SCRIPTS[case_name]
    expected, expected_metrics = reference(case, script)
    played = driver(case, script)
    assert [e.problem_id for e in played.episodes] == [e.problem_id for e in expected]
    # What the model saw at every attempt: the first prompt, then its own attempts and the correction instruction.
    assert [e.prompts for e in played.episodes] == [tuple(a.prompt for a in e.attempts) for e in expected]
    assert [e.rewards for e in played.episodes] == [tuple(a.reward for a in e.attempts) for e in expected]
    assert [e.reasons for e in played.episodes] == [tuple(a.grade.reason.value for a in e.attempts) for e in expected]
    assert set(played.metrics) == set(expected_metrics)
    assert played.metrics == pytest.approx(expected_metrics)


def test_the_cases_exercise_every_transition():
    # Otherwise equal metrics could hide a swapped Δi→c / Δc→i or a mishandled unparsable attempt.
    for name, case in CASES.items():
        _, metrics = reference(case, SCRIPTS[name])
        assert metrics["delta_i_to_c"] > 0 and metrics["delta_c_to_i"] > 0, name
        assert 0 < metrics["acc@t1"] < 1, name
    episodes, _ = reference(CASES["arithmetic-2-attempts"], SCRIPTS["arithmetic-2-attempts"])
    assert "unparsable" in {a.grade.reason.value for e in episodes for a in e.attempts}


def test_what_the_model_sees_after_attempt_one_does_not_depend_on_its_grade(driver):
    # Same problem, same answer, graders that disagree: every prompt the model sees must be identical.
    def say_red(conversation):
        return "red"

    right = driver(Case(PROBE_RIGHT_ENV, "test", 2, (0,)), say_red).episodes[0]
    wrong = driver(Case(PROBE_WRONG_ENV, "test", 2, (0,)), say_red).episodes[0]
    assert right.prompts == wrong.prompts
    assert right.prompts[1][-1].role == "user"  # the correction instruction, identical in both
    assert (right.rewards, wrong.rewards) == ((1.0, 1.0), (0.0, 0.0))


def test_hostile_responses_reach_the_next_prompt_exactly(driver, request):
    """Each family of ``tests.hostile`` as a response (problem i answers family i, then family i + 1): no engine
    fails, and the model's next prompt holds its response exactly; OpenEnv's JSON sends a lone surrogate escaped."""
    engine = request.node.callspec.params["driver"]
    families = list(HOSTILE.values())
    if engine == "verifiers":  # its OpenAI client rejects a lone surrogate in the model server's reply (pydantic's
        families = [t for t in families if escape_surrogates(t) == t]  # JSON): such a response never gets here
    words = [p.reference for p in PROBE_PROBLEMS]

    def hostile(conversation: Conversation) -> str:
        word = conversation[0].content.removeprefix("Say the word ").rstrip(".")
        return families[(words.index(word) + turn_of(conversation) - 1) % len(families)]

    played = driver(Case(PROBE_WRONG_ENV, "test", 2, tuple(range(len(words)))), hostile)
    sent = escape_surrogates if engine == "openenv" else str
    assert [e.prompts[1][1].content for e in played.episodes] == [
        sent(families[i % len(families)]) for i in range(len(words))
    ]
    assert all(e.reasons == ("wrong", "wrong") for e in played.episodes)
