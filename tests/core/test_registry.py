"""Registering a task in a few lines, and finding envs by id or short name."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from score_env.records import Grade, Problem
from score_env.registry import UnknownNameError, register_task, registered_tasks, resolve_env
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
