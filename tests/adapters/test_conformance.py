"""One suite, every adapter: a scripted policy played through each engine's real package gets exactly the rewards,
grades, prompts and metrics that the core rollout loop (``collect_episodes`` + ``self_correction_metrics``) gets."""

from __future__ import annotations

import pytest

from tests.adapters.harness import CASES, PROBE_RIGHT_ENV, PROBE_WRONG_ENV, SCRIPTS, Case, reference


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
