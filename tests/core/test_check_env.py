"""Every registered env passes Gymnasium's own checker, with its warnings treated as errors."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from score_env.registry import registered_tasks


@pytest.mark.parametrize(
    ("env_id", "split"), [(spec.env_id, split) for spec in registered_tasks() for split in spec.splits]
)
def test_check_env_passes(env_id, split):
    env = gym.make(env_id, split=split)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)
    env.close()


def test_the_registry_is_not_empty():
    assert "score/Arithmetic-v0" in {s.env_id for s in registered_tasks()}
