"""The GEM adapter with gem-llm itself: registration, the 5-tuple, no leak into observations, errors raise."""

from __future__ import annotations

import pytest

from tests.adapters.conftest import require_engine

require_engine("gem")

import gem  # noqa: E402  (after the skip)
from gem.utils.constants import TERMINAL_STATE  # noqa: E402

from score_env.adapters.episode import GradingError  # noqa: E402
from score_env.adapters.gem_env import register_gem_env  # noqa: E402
from tests.adapters.harness import (  # noqa: E402
    DELIBERATE,
    PROBE_ENV,
    PROBE_INSTRUCTION,
    PROBE_RIGHT_ENV,
    PROBE_WRONG_ENV,
    RIGHT_TWICE,
)


def test_every_builtin_env_is_registered_with_gem_on_import():
    for gem_id in ("score:Arithmetic-v0", "score:MATH-v0", "score:HumanEval-v0", "score:MBPP-v0"):
        assert gem_id in gem.envs.registration.ENV_REGISTRY
    assert register_gem_env("arithmetic") == "score:Arithmetic-v0"  # again: a no-op


def test_the_gymnasium_five_tuple_with_text_observations():
    env = gem.make(register_gem_env(PROBE_ENV), split="test")
    observation, info = env.reset(idx=2)
    assert (observation, info) == ("Say the word green.", {"problem_id": "probe/2", "attempt": 0})
    observation, reward, terminated, truncated, info = env.step("green")
    assert (observation, reward, terminated, truncated) == (PROBE_INSTRUCTION, 1.0, False, False)
    observation, reward, terminated, truncated, info = env.step("GREEN")
    assert (observation, reward, terminated, truncated) == (TERMINAL_STATE, 0.0, True, False)
    assert info["metrics"] == {
        **{"acc@t1": 1.0, "acc@t2": 0.0, "delta": -1.0, "delta_i_to_c": 0.0, "delta_c_to_i": 1.0},
        **{"attempt_1": 1.0, "attempt_2": 0.0, "verdicts": 0.0},  # each attempt's reward by name
    }


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_each_step_pays_its_own_reward_so_a_deliberate_fix_earns_no_more_than_right_twice(stop):
    def play(responses):
        env = gem.make(register_gem_env(PROBE_ENV), split="test", stop=stop)
        env.reset(idx=0)
        steps = [env.step(response) for response in responses]
        assert [terminated for _, _, terminated, _, _ in steps] == [False] * (len(steps) - 1) + [True]
        return [reward for _, reward, *_ in steps], steps[-1][-1]["metrics"]

    (fix, fix_named), (keep, keep_named) = play(DELIBERATE[stop]), play(RIGHT_TWICE[stop])
    assert sum(fix) <= sum(keep)  # the return: GEM's trainers sum the steps' rewards
    assert fix[0] == 0.0 and keep[0] == 1.0  # attempt 1's own reward, at attempt 1
    for rewards, named in ((fix, fix_named), (keep, keep_named)):
        assert named["attempt_1"] + named["attempt_2"] + named["verdicts"] == sum(rewards)


def test_observation_and_the_keys_gem_wrappers_paste_do_not_depend_on_the_grade():
    outcomes = []
    for env_id in (PROBE_RIGHT_ENV, PROBE_WRONG_ENV):
        env = gem.make(register_gem_env(env_id), split="test")
        env.reset(idx=0)
        observation, reward, terminated, _, info = env.step("red")
        assert not terminated  # never ends early on a right answer
        assert not {"prefix", "suffix"} & set(info)  # GEM's ObservationWrapper pastes these into the input
        outcomes.append((observation, reward))
    assert outcomes == [(PROBE_INSTRUCTION, 1.0), (PROBE_INSTRUCTION, 0.0)]


def test_an_error_grade_raises_instead_of_a_zero_reward():
    env = gem.make(register_gem_env(PROBE_ENV), split="test")
    env.reset(idx=0)
    with pytest.raises(GradingError, match="the probe grader crashed"):
        env.step("CRASH")


def test_reset_draws_from_the_constructor_seed_or_picks_idx():
    def first_problems(seed):
        env = gem.make("score:Arithmetic-v0", split="test", seed=seed)
        return [env.reset()[1]["problem_id"] for _ in range(4)]

    assert first_problems(3) == first_problems(3) != first_problems(4)
    assert gem.make("score:Arithmetic-v0", split="test").reset(idx=7)[1]["problem_id"] == "arithmetic/test/7"


def test_gem_vector_envs_autoreset_after_the_last_attempt():
    vec = gem.make_vec(["score:Arithmetic-v0"] * 2, split="test", max_attempts=2)
    observations, _ = vec.reset()
    assert all(o.startswith("Compute ") for o in observations)
    observations, *_ = vec.step(["Answer: 0", "Answer: 0"])
    assert all(o.startswith("There might be an error") for o in observations)
    observations, _, terminated, truncated, _ = vec.step(["Answer: 1", "Answer: 1"])
    assert list(terminated) == [True, True] and list(truncated) == [False, False]
    assert all(o.startswith("Compute ") for o in observations)  # GEM's default same-step autoreset: new episodes
