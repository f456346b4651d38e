"""The verifiers 0.2.1-0.3.x adapter (``MultiTurnEnv``) with verifiers itself: loading, per-turn rewards, the rubric's
rewards by name, errors as failed rollouts. ``test_verifiers_v1.py`` tests the 0.4 adapter; each skips under the other
release (``.ci/adapters.sh`` runs both: the venvs ``verifiers`` and ``verifiers@0.3``)."""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("verifiers")

import verifiers as vf  # noqa: E402  (after the skip)

if not hasattr(vf, "MultiTurnEnv"):
    pytest.skip(
        f"the verifiers 0.3 API (MultiTurnEnv); verifiers {vf.__version__} is installed here (test_verifiers_v1.py)",
        allow_module_level=True,
    )

from score_env.adapters.episode import EnvChoice  # noqa: E402
from score_env.adapters.verifiers_env import ScoreMultiTurnEnv, load_environment  # noqa: E402
from tests.adapters.drivers.verifiers_legacy_driver import generate, scripted_client  # noqa: E402
from tests.adapters.harness import (  # noqa: E402
    DELIBERATE,
    PROBE_ENV,
    PROBE_INSTRUCTION,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    RIGHT_TWICE,
    Case,
    scripted_turns,
)


def test_verifiers_loads_it_by_module_name():
    env = vf.load_environment("score_env.adapters.verifiers_env", env="arithmetic", split="test", num_problems=3)
    assert isinstance(env, vf.MultiTurnEnv) and env.max_turns == 2
    rows = env.get_dataset().to_list()
    assert [row["info"] for row in rows] == [{"index": i, "problem_id": f"arithmetic/test/{i}"} for i in range(3)]
    assert rows[0]["prompt"][0]["content"].startswith("Compute ")


def test_each_step_carries_its_own_reward_and_the_rollout_their_sum_by_name():
    answers = iter(["red", "RED"])  # right, then wrong
    results = generate(Case(PROBE_ENV, "test", 2, (0,)), lambda conversation: next(answers))
    (output,) = results["outputs"]
    assert [step["reward"] for step in output["trajectory"]] == [1.0, 0.0]
    assert output["reward"] == 1.0  # the rubric's weighted sum, weight 1 each: never the last attempt's alone
    assert {name: output["metrics"][name] for name in ("attempt_1", "attempt_2", "verdicts")} == {
        "attempt_1": 1.0,
        "attempt_2": 0.0,
        "verdicts": 0.0,
    }
    assert output["metrics"]["acc@t1"] == 1.0 and output["metrics"]["delta_c_to_i"] == 1.0


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_a_deliberate_fix_earns_no_more_than_right_twice_under_the_default_reward(stop):
    case = Case(PROBE_ENV, "test", 2, (0,), stop)
    (fix,) = generate(case, scripted_turns(DELIBERATE[stop]))["outputs"]
    (keep,) = generate(case, scripted_turns(RIGHT_TWICE[stop]))["outputs"]
    assert fix["reward"] <= keep["reward"]
    assert fix["trajectory"][0]["reward"] == 0.0  # attempt 1's own reward, on attempt 1's step
    for output in (fix, keep):
        assert output["reward"] == sum(s["reward"] for s in output["trajectory"])
    if stop == "model_decides":  # the verdict "correct" ended the episode: no attempt 2, the verdict paid instead
        assert keep["stop_condition"] == "episode_over" and len(keep["trajectory"]) == 2


def test_reward_weights_reweigh_the_rewards_by_name_and_unknown_names_fail():
    answers = iter(["red", "red"])
    env = load_environment(env=PROBE_ENV, split="test", num_problems=1, reward_weights={"attempt_1": 0.5})
    (output,) = env.generate_sync(
        env.get_dataset().to_list(),
        client=scripted_client(lambda conversation: next(answers)),
        model="scripted",
        on_progress=lambda *args, **kwargs: None,
    )["outputs"]
    assert output["reward"] == 1.5
    with pytest.raises(ValueError, match=r"\['final'\], not rewards of this env; its rewards: attempt_1, attempt_2"):
        load_environment(env=PROBE_ENV, split="test", reward_weights={"final": 1.0})


def test_the_environment_response_is_the_instruction_whatever_the_grade():
    completions = []
    for env_id in (PROBE_RIGHT_ENV, PROBE_WRONG_ENV):
        (output,) = generate(Case(env_id, "test", 2, (0,)), lambda conversation: "red")["outputs"]
        assert len(output["trajectory"]) == 2  # never stops early on a right answer
        assert output["stop_condition"] == "episode_over"  # the core env's episode ended
        completions.append([(m["role"], m["content"]) for m in map(_as_dict, output["completion"])])
    assert completions[0] == completions[1] == [("assistant", "red"), ("user", PROBE_INSTRUCTION), ("assistant", "red")]


def test_an_error_grade_fails_the_rollout_instead_of_scoring_zero():
    results = generate(Case(PROBE_ENV, "test", 2, (0, 1)), lambda conversation: "CRASH")
    for output in results["outputs"]:
        assert output["error"]["error"] == "VerifiersGradingError"  # verifiers' failed-rollout flag
        assert "the probe grader crashed" in output["error"]["error_chain_repr"]
        assert output["stop_condition"] == "has_error"  # stopped at once
        assert output["trajectory"] == []  # the failed attempt is not recorded, so nothing can give it a reward
        assert output["metrics"]["grade_error"] == 1.0
    assert results["metadata"]["avg_error"] == 1.0


def test_a_prompt_that_is_not_the_problems_fails_loudly():
    env = ScoreMultiTurnEnv(EnvChoice(PROBE_ENV, "test"), indices=[0])
    (row,) = env.get_dataset().to_list()
    row["prompt"] = [{"role": "user", "content": "Say the word blue."}]  # problem 1's prompt on problem 0
    with pytest.raises(ValueError, match="not the first prompt of problem 0"):
        env.generate_sync([row], client=scripted_client(lambda conversation: "red"), model="scripted")


def _as_dict(message) -> dict[str, str]:
    return message if isinstance(message, dict) else {"role": message.role, "content": message.content}
