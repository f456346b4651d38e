"""One suite, every adapter: a scripted policy played through each engine's real package gets exactly the rewards,
grades, prompts and metrics that the core rollout loop (``collect_episodes`` + ``self_correction_metrics``) gets:
each turn's reward (attempts, and self-verdicts in verify-then-revise) as its own, and the rewards by name
(``attempt_1`` ... ``attempt_T``, ``verdicts``) in the engine's own aggregate."""

from __future__ import annotations

import pytest

from score_env.records import Conversation
from score_env.text import escape_surrogates
from tests.adapters.harness import (
    CASES,
    DELIBERATE,
    PROBE_ENV,
    PROBE_PROBLEMS,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    RIGHT_TWICE,
    SCRIPTS,
    Case,
    reference,
    scripted_turns,
)
from tests.conftest import turn_of
from tests.hostile import HOSTILE


@pytest.mark.parametrize("case_name", sorted(CASES))
def test_rewards_prompts_and_metrics_equal_the_core_rollout(driver, case_name):
    case, script = CASES[case_name], SCRIPTS[case_name]
    expected, expected_metrics = reference(case, script)
    played = driver(case, script)
    assert [e.problem_id for e in played.episodes] == [e.problem_id for e in expected]
    # What the model saw at every turn: the first prompt, then its own responses and the instructions between them.
    assert [e.prompts for e in played.episodes] == [tuple(t.prompt for t in e.turns) for e in expected]
    # Each turn's own reward reached the engine: never one number for the episode, never the last attempt's alone.
    assert [e.rewards for e in played.episodes] == [tuple(t.reward for t in e.turns) for e in expected]
    assert [e.reasons for e in played.episodes] == [tuple(t.grade.reason.value for t in e.turns) for e in expected]
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
    # Verify-then-revise: verdicts right, wrong and unparsable, episodes that stop early and ones that revise.
    episodes, _ = reference(CASES["verify-then-revise-3-attempts"], SCRIPTS["verify-then-revise-3-attempts"])
    assert {v.grade.reason.value for e in episodes for v in e.verdicts} == {"ok", "wrong", "unparsable"}
    assert {len(e.attempts) for e in episodes} == {1, 2, 3}


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_a_wrong_first_attempt_on_purpose_never_pays_more_than_right_twice(driver, stop):
    """AdaPO's failure mode: a reward that pays for improvement pays a policy that answers wrong on purpose at attempt
    1 and fixes it. Summed over the turns, and by name, wrong-then-right earns no more than right twice."""
    case = Case(PROBE_ENV, "test", 2, (0,), stop)
    paid = {
        name: driver(case, scripted_turns(turns))
        for name, turns in (("fix", DELIBERATE[stop]), ("keep", RIGHT_TWICE[stop]))
    }
    (fix,), (keep,) = paid["fix"].episodes, paid["keep"].episodes
    assert sum(fix.rewards) <= sum(keep.rewards)
    for played in paid.values():  # the rewards by name add up to the turns' rewards (one episode: mean = value)
        assert sum(played.metrics[name] for name in ("attempt_1", "attempt_2", "verdicts")) == sum(
            played.episodes[0].rewards
        )
    assert (paid["fix"].metrics["attempt_1"], paid["keep"].metrics["attempt_1"]) == (0.0, 1.0)


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
    # verifiers' OpenAI client (pydantic's JSON) and NeMo Gym's agent (orjson) reject a lone surrogate in the model
    # server's reply: such a response never gets here.
    if engine in ("verifiers", "nemo_gym"):
        families = [t for t in families if escape_surrogates(t) == t]
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
