"""The SkyRL adapter with skyrl-gym itself: registration, dataset rows, only new messages, errors raise."""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("skyrl")

import skyrl_gym  # noqa: E402  (after the skip)

from score_env.adapters.episode import GradingError  # noqa: E402
from score_env.adapters.skyrl_env import register_skyrl_env, skyrl_dataset  # noqa: E402
from tests.adapters.harness import (  # noqa: E402
    DELIBERATE,
    PROBE_ENV,
    PROBE_INSTRUCTION,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    RIGHT_TWICE,
)


def make(env_class: str, env: str = PROBE_ENV, index: int = 0, max_attempts: int = 2, stop: str = "fixed"):
    register_skyrl_env(env_class, env=env, split="test", max_attempts=max_attempts, stop=stop)
    row = skyrl_dataset(env_class)[index]
    extras = {"extra_info": row["extra_info"], "max_turns": 1}  # the columns SkyRL's generator passes, as it does
    return skyrl_gym.make(env_class, env_config={}, extras=extras), row["prompt"]


def test_dataset_rows_are_what_skyrls_prompt_dataset_reads():
    register_skyrl_env("score-probe-rows", env=PROBE_ENV, split="test")
    rows = skyrl_dataset("score-probe-rows", limit=2)
    assert rows[1] == {
        "prompt": [{"role": "user", "content": "Say the word blue."}],
        "env_class": "score-probe-rows",
        "extra_info": {"index": 1, "problem_id": "probe/1"},
    }
    assert skyrl_gym.registry["score-probe-rows"].to_json()  # SkyRL can serialise the registration
    with pytest.raises(ValueError, match="not registered"):
        skyrl_dataset("score-never-registered")


def test_step_returns_only_the_new_messages_and_a_reward_per_attempt():
    env, prompt = make("score-probe-steps", index=3)
    assert env.init(prompt) == (prompt, {"problem_id": "probe/3"})
    first = env.step("black")
    assert (first["observations"], first["reward"], first["done"]) == (
        [{"role": "user", "content": PROBE_INSTRUCTION}],
        1.0,
        False,
    )
    assert first["metadata"]["reason"] == "ok"
    last = env.step("nope")
    assert (last["observations"], last["reward"], last["done"]) == ([], 0.0, True)
    assert env.get_metrics()["delta_c_to_i"] == 1.0


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_each_turn_pays_its_own_reward_so_a_deliberate_fix_earns_no_more_than_right_twice(stop):
    def play(name, responses):
        env, prompt = make(f"score-probe-paid-{stop}-{name}", stop=stop)
        env.init(prompt)
        outputs = [env.step(response) for response in responses]
        assert [o["done"] for o in outputs] == [False] * (len(outputs) - 1) + [True]
        assert env.turns == len(responses) <= env.max_turns
        return [o["reward"] for o in outputs], env.get_metrics()

    (fix, fix_named), (keep, keep_named) = play("fix", DELIBERATE[stop]), play("keep", RIGHT_TWICE[stop])
    assert sum(fix) <= sum(keep)  # SkyRL's turn-level rewards: one at the end of each turn, summed into the return
    assert fix[0] == 0.0 and keep[0] == 1.0
    for rewards, named in ((fix, fix_named), (keep, keep_named)):
        assert named["attempt_1"] + named["attempt_2"] + named["verdicts"] == sum(rewards)


def test_the_new_messages_do_not_depend_on_the_grade():
    outcomes = []
    for env_id in (PROBE_RIGHT_ENV, PROBE_WRONG_ENV):
        env, prompt = make(f"score-{env_id}", env=env_id)
        env.init(prompt)
        output = env.step("red")
        outcomes.append((output["observations"], output["reward"], output["done"]))
    assert outcomes[0][0] == outcomes[1][0] and (outcomes[0][1], outcomes[1][1]) == (1.0, 0.0)
    assert not outcomes[0][2]  # never ends early on a right answer


def test_an_error_grade_raises_instead_of_a_zero_reward():
    env, prompt = make("score-probe-crash")
    env.init(prompt)
    with pytest.raises(GradingError, match="the probe grader crashed"):
        env.step("CRASH")


def test_rows_of_another_env_or_missing_columns_fail_loudly():
    env, _ = make("score-probe-mismatch")
    with pytest.raises(ValueError, match="not the first prompt"):
        env.init([{"role": "user", "content": "Compute 1 + 1."}])
    with pytest.raises(ValueError, match=r"extra_info\.index"):
        skyrl_gym.make("score-probe-mismatch", env_config={}, extras={"max_turns": 1})
    with pytest.raises(ValueError, match="register_skyrl_env"):
        skyrl_gym.make("score-probe-mismatch", env_config={"digits": 3}, extras={"extra_info": {"index": 0}})


def test_registering_a_name_again_with_other_arguments_is_refused():
    register_skyrl_env("score-probe-twice", env=PROBE_ENV, split="test")
    register_skyrl_env("score-probe-twice", env=PROBE_ENV, split="test")  # the same: a no-op
    with pytest.raises(skyrl_gym.error.RegistrationError):
        register_skyrl_env("score-probe-twice", env=PROBE_ENV, split="test", max_attempts=3)
