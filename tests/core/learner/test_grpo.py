"""grpo_advantages against numbers computed by hand (GRPO's group mean/std normalisation)."""

from __future__ import annotations

import math

import pytest
import torch

from score_env.learner.losses import advantages, grpo_advantages

S = 1 / math.sqrt(2)  # (r − 0.5) / std for a group (0, 1): unbiased std = √0.5


@pytest.mark.parametrize(
    ("rewards", "group_size", "valid", "expected"),
    [
        # two problems, k = 2: one right and one wrong each way round; both equal -> 0 (std 0, ε keeps it finite)
        ([0.0, 1.0, 1.0, 1.0], 2, None, [-S, S, 0.0, 0.0]),
        # k = 3, rewards (1, 0, 0): mean 1/3, unbiased std √(1/3) -> (2/3)/√(1/3), (−1/3)/√(1/3) twice
        ([1.0, 0.0, 0.0], 3, None, [2 / math.sqrt(3), -1 / math.sqrt(3), -1 / math.sqrt(3)]),
        # a sample left out (grading error, or not selected) gets 0 and is out of its group's mean and std
        ([1.0, 0.0, 1.0, 0.0], 4, [True, True, False, False], [S, -S, 0.0, 0.0]),
        # a group with one valid sample keeps its reward (mean 0, std 1: verl's rule for a single response)
        ([1.0, 0.0, 1.0, 1.0], 2, [True, False, True, True], [1.0, 0.0, 0.0, 0.0]),
        # k = 1 everywhere: every sample is alone
        ([1.0, 0.0], 1, None, [1.0, 0.0]),
    ],
)
def test_grpo_advantages_by_hand(rewards, group_size, valid, expected):
    mask = None if valid is None else torch.tensor(valid)
    got = grpo_advantages(torch.tensor(rewards), group_size, eps=1e-6, valid=mask)
    assert torch.allclose(got, torch.tensor(expected), atol=1e-5)


def test_grpo_advantages_divide_by_std_plus_eps():
    got = grpo_advantages(torch.tensor([0.0, 1.0]), 2, eps=1.0)
    assert torch.allclose(got, torch.tensor([-0.5 / (S + 1), 0.5 / (S + 1)]))


def test_grpo_advantages_refuse_groups_that_do_not_split():
    with pytest.raises(ValueError, match="do not split into groups of 2"):
        grpo_advantages(torch.tensor([0.0, 1.0, 1.0]), 2)


def test_the_grpo_baseline_normalises_each_attempt_separately():
    returns = torch.tensor([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # [B=4, A=2], two problems of k = 2
    group = torch.tensor([0, 0, 1, 1])
    got = advantages(returns, group, torch.ones(4, dtype=torch.bool), "grpo")
    assert torch.allclose(got, torch.tensor([[-S, 0.0], [S, 0.0], [0.0, -S], [0.0, S]]), atol=1e-5)


def test_the_grpo_baseline_needs_each_problems_samples_side_by_side():
    with pytest.raises(ValueError, match="side by side"):
        advantages(torch.zeros(4, 1), torch.tensor([0, 1, 0, 1]), torch.ones(4, dtype=torch.bool), "grpo")
