"""The verifiers adapter with verifiers itself: loading, per-attempt rewards, the rubric, errors as failed rollouts."""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("verifiers")

import verifiers as vf  # noqa: E402  (after the skip)

from score_env.adapters.episode import EnvChoice  # noqa: E402
from score_env.adapters.verifiers_env import ScoreMultiTurnEnv  # noqa: E402
from tests.adapters.drivers.verifiers_driver import generate, scripted_client  # noqa: E402
from tests.adapters.harness import PROBE_ENV, PROBE_INSTRUCTION, PROBE_RIGHT_ENV, PROBE_WRONG_ENV, Case  # noqa: E402


def test_verifiers_loads_it_by_module_name():
    env = vf.load_environment("score_env.adapters.verifiers_env", env="arithmetic", split="test", num_problems=3)
    assert isinstance(env, vf.MultiTurnEnv) and env.max_turns == 2
    rows = env.get_dataset().to_list()
    assert [row["info"] for row in rows] == [{"index": i, "problem_id": f"arithmetic/test/{i}"} for i in range(3)]
    assert rows[0]["prompt"][0]["content"].startswith("Compute ")


def test_rollout_reward_is_the_last_attempts_and_each_step_carries_its_own():
    answers = iter(["red", "RED"])  # right, then wrong
    results = generate(Case(PROBE_ENV, "test", 2, (0,)), lambda conversation: next(answers))
    (output,) = results["outputs"]
    assert [step["reward"] for step in output["trajectory"]] == [1.0, 0.0]
    assert output["reward"] == 0.0 and output["metrics"]["final_reward"] == 0.0
    assert output["metrics"]["acc@t1"] == 1.0 and output["metrics"]["delta_c_to_i"] == 1.0


def test_the_environment_response_is_the_instruction_whatever_the_grade():
    completions = []
    for env_id in (PROBE_RIGHT_ENV, PROBE_WRONG_ENV):
        (output,) = generate(Case(env_id, "test", 2, (0,)), lambda conversation: "red")["outputs"]
        assert output["stop_condition"] == "max_turns_reached"  # never stops early on a right answer
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
