"""Registering a task in a few lines, and finding envs by id or short name."""

from __future__ import annotations

import pickle
import warnings
from dataclasses import replace

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from score_env import registry
from score_env.records import Grade, Problem
from score_env.registry import EnvFactory, UnknownNameError, register_task, registered_tasks, resolve_env
from score_env.task import PromptTask


def make_capitals_task(split: str = "train") -> PromptTask:
    capitals = {"train": [("France", "Paris"), ("Japan", "Tokyo")], "test": [("Peru", "Lima")]}[split]
    return PromptTask(
        name="capitals",
        problems=[Problem(country, f"What is the capital of {country}?", city) for country, city in capitals],
        render_prompt=lambda p: p.question + " Answer in one word.",
        correction_instruction="There might be an error above. Answer again in one word.",
        grade_response=lambda p, r: Grade.ok(r.strip()) if r.strip() == p.reference else Grade.wrong(r.strip()),
    )


def test_a_task_defined_here_registers_and_plays_through_gymnasium_make():
    register_task("score/CapitalsTest-v0", make_capitals_task, short_name="capitals-test", description="capitals")
    env = gym.make("score/CapitalsTest-v0", split="test")
    obs, _ = env.reset(seed=0)
    assert obs[0]["content"] == "What is the capital of Peru? Answer in one word."
    _, reward, terminated, _, _ = env.step("Lima")
    assert reward == 1.0 and not terminated
    assert resolve_env("capitals-test").env_id == "score/CapitalsTest-v0"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_arithmetic_is_registered_with_a_short_name():
    assert resolve_env("arithmetic") == resolve_env("score/Arithmetic-v0")
    assert any(s.env_id == "score/Arithmetic-v0" for s in registered_tasks())


def test_unknown_env_names_the_allowed_ones_and_the_closest():
    with pytest.raises(UnknownNameError, match=r"'arithmetc'.*Allowed: .*arithmetic.*Did you mean 'arithmetic'"):
        resolve_env("arithmetc")


def test_ids_outside_the_namespace_and_taken_short_names_are_rejected():
    with pytest.raises(ValueError, match="namespace"):
        register_task("Capitals-v0", make_capitals_task, short_name="c", description="")
    with pytest.raises(ValueError, match="already used"):
        register_task("score/Other-v0", make_capitals_task, short_name="arithmetic", description="")


class Resource:
    """What a grader might hold open (worker processes, a sandbox): counts its closes."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


BUILT: list[Resource] = []


def make_owning_task(split: str = "train") -> PromptTask:
    BUILT.append(resource := Resource())
    return replace(make_capitals_task(split), resources=(resource,))


@pytest.fixture
def owning_env():
    register_task("score/OwningTest-v0", make_owning_task, short_name="owning-test", description="capitals, owning")
    BUILT.clear()
    yield "score/OwningTest-v0"
    registry._SPECS.pop("score/OwningTest-v0", None)  # test code only: the registry has no public way to do this
    gym.registry.pop("score/OwningTest-v0", None)


def test_a_factory_builds_its_task_once_per_run_and_closes_it_when_the_run_ends(owning_env):
    factory = EnvFactory(owning_env, "train")
    pickle.dumps(factory)  # an unopened factory is a description: what a worker process gets
    with pytest.raises(RuntimeError, match="open the"):
        factory(2)
    with factory.open() as envs:
        verify = replace(envs, stop="model_decides")  # other episodes on the same task
        made = [envs(2) for _ in range(3)] + [verify(2)]
        assert len(BUILT) == 1 and all(env.task is envs.task for env in made)
        for env in made:
            env.close()  # an env leaves the run's task open
        assert BUILT[0].closed == 0 and envs.n_problems == 2
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(envs)
    assert BUILT[0].closed == 1


def test_gymnasium_make_builds_a_task_per_env_that_env_close_closes(owning_env):
    env = gym.make(owning_env, split="test")
    env.reset(seed=0)
    env.step("Lima")
    assert [r.closed for r in BUILT] == [0]
    env.close()
    assert [r.closed for r in BUILT] == [1]
