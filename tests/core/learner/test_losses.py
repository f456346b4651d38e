"""Each pure function of the learner against numbers computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from score_env.learner.losses import (
    attempt_kl,
    batch_mean_advantages,
    gather_token_logprobs,
    reinforce_loss,
    rloo_advantages,
    sequence_logprob,
    sft_loss,
    shaped_reward,
    turn_returns,
)


def test_gather_token_logprobs():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))  # [1, 2, 3] already normalised
    got = gather_token_logprobs(logits, torch.tensor([[0, 2]]))
    assert torch.allclose(got, torch.tensor([[math.log(0.5), math.log(0.8)]]))


def test_attempt_kl_sums_the_log_ratio_over_the_attempts_own_tokens():
    logp = torch.tensor([[-1.0, -2.0, -3.0]])
    ref = torch.tensor([[-1.5, -1.0, -9.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])  # the third position is not the attempt's
    # (−1 − −1.5) + (−2 − −1) = 0.5 − 1 = −0.5
    assert attempt_kl(logp, ref, mask, "sum").item() == pytest.approx(-0.5)
    # k3 with r = ref − logp: exp(r) − r − 1: r1 = −0.5 -> e^−0.5 − 0.5 = 0.10653; r2 = 1 -> e − 2 = 0.71828
    assert attempt_kl(logp, ref, mask, "k3").item() == pytest.approx(math.exp(-0.5) + 0.5 - 1 + math.e - 2)


def test_the_kl_carries_gradient():
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    attempt_kl(logp, torch.tensor([[-1.0, -2.0]]), torch.ones(1, 2), "sum").sum().backward()
    assert logp.grad.tolist() == [[1.0, 1.0]]  # d/dlogp Σ(logp − ref) = 1, even where the ratio is 0


def test_shaped_reward_table_at_alpha_10():
    r1 = torch.tensor([0.0, 1.0, 0.0, 1.0])
    r2 = torch.tensor([1.0, 1.0, 0.0, 0.0])
    # wrong→right 11, right→right 1, wrong→wrong 0, right→wrong −10 (docs/paper.md, "Stage II")
    assert shaped_reward(r1, r2, 10.0).tolist() == [11.0, 1.0, 0.0, -10.0]
    assert shaped_reward(r1, r2, 0.0).tolist() == r2.tolist()


def test_turn_returns_stage_one_and_two():
    rewards = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    kls = torch.tensor([[2.0, 4.0], [1.0, 0.5]])
    # Stage I: G1 = −β2·KL1, G2 = r2 − β1·KL2 (β2 = 0.1, β1 = 0.01)
    stage1 = turn_returns(rewards, kls, torch.tensor([0.0, 1.0]), torch.tensor([0.1, 0.01]), alpha=0.0)
    assert torch.allclose(stage1, torch.tensor([[-0.2, -0.04], [-0.1, 1 - 0.005]]))
    # Stage II: G1 = r1 − β1·KL1, G2 = r2 + 10(r2 − r1) − β1·KL2
    stage2 = turn_returns(rewards, kls, torch.tensor([1.0, 1.0]), torch.tensor([0.01, 0.01]), alpha=10.0)
    assert torch.allclose(stage2, torch.tensor([[1 - 0.02, -10 - 0.04], [-0.01, 11 - 0.005]]))


def rloo(returns, group, valid=None):
    returns = torch.tensor(returns).reshape(len(group), -1)
    valid = torch.ones(len(group), dtype=torch.bool) if valid is None else torch.tensor(valid)
    return rloo_advantages(returns, torch.tensor(group), valid)


def test_rloo_advantages():
    # k = 2: each sample's baseline is the other one.
    assert rloo([1.0, 0.0, 0.0, 0.0], [0, 0, 1, 1]).flatten().tolist() == [1.0, -1.0, 0.0, 0.0]
    # k = 4, one success: baseline 0 for it (1 − 0 = 1); 1/3 for the others (0 − 1/3).
    assert rloo([1.0, 0.0, 0.0, 0.0], [0, 0, 0, 0]).flatten().tolist() == pytest.approx([1, -1 / 3, -1 / 3, -1 / 3])
    # per attempt, [B, A]
    assert rloo([[1.0, 2.0], [3.0, 6.0]], [0, 0]).tolist() == [[-2.0, -4.0], [2.0, 4.0]]
    assert rloo([5.0], [0]).tolist() == [[5.0]]  # no other sample
    # groups of different sizes: k is read off the data
    assert rloo([1.0, 0.0, 2.0], [0, 0, 1]).flatten().tolist() == [1.0, -1.0, 2.0]


def test_an_errored_episode_has_no_advantage_and_is_nobodys_baseline():
    # Group of 3, the last one graded `error`: the other two are each other's baseline, as if k were 2.
    assert rloo([1.0, 0.0, 1.0], [0, 0, 0], [True, True, False]).flatten().tolist() == [1.0, -1.0, 0.0]
    # The only valid sample of its group keeps its return.
    assert rloo([1.0, 0.0], [0, 0], [True, False]).flatten().tolist() == [1.0, 0.0]


def test_batch_mean_advantages():
    everyone = torch.tensor([True, True])
    assert batch_mean_advantages(torch.tensor([[1.0], [3.0]]), everyone).tolist() == [[-1.0], [1.0]]
    # the mean is over valid episodes only; the errored one gets 0
    valid = torch.tensor([True, True, False])
    assert batch_mean_advantages(torch.tensor([[1.0], [3.0], [9.0]]), valid).tolist() == [[-1.0], [1.0], [0.0]]


def test_reinforce_loss_by_hand():
    logp = torch.tensor([[-1.0, -2.0, -5.0], [-0.5, -0.5, -0.5]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    advantage = torch.tensor([2.0, -1.0])
    kl = torch.tensor([0.3, 0.1])
    # episode 1: −2·(−3) + 0.1·0.3 = 6.03; episode 2: −(−1)·(−1) + 0.1·0.1 = −0.99; mean 2.52
    loss = reinforce_loss(sequence_logprob(logp, mask), advantage, kl, beta=0.1, valid=torch.tensor([True, True]))
    assert loss.item() == pytest.approx(2.52)
    loss.backward()
    assert logp.grad.tolist() == [[-1.0, -1.0, 0.0], [0.0, 0.5, 0.5]]  # −A/B on own tokens, nothing elsewhere


def test_reinforce_loss_leaves_errored_episodes_out():
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.5]], requires_grad=True)
    loss = reinforce_loss(
        sequence_logprob(logp, torch.ones(2, 2)),
        torch.tensor([2.0, -1.0]),
        torch.tensor([0.3, 0.1]),
        beta=0.1,
        valid=torch.tensor([True, False]),
    )
    assert loss.item() == pytest.approx(6.03)  # episode 1 alone, averaged over the one valid episode
    loss.backward()
    assert logp.grad[1].tolist() == [0.0, 0.0]


def test_length_buckets_pack_similar_lengths_under_a_token_budget():
    from score_env.learner.batch import length_buckets

    lengths = [10, 50, 12, 48, 11, 200, 13]
    buckets = length_buckets(lengths, max_tokens=100)
    assert sorted(i for b in buckets for i in b) == list(range(7))  # every row, once
    assert all(len(b) * max(lengths[i] for i in b) <= 100 or len(b) == 1 for b in buckets)
    # short ones together (13 would stretch the bucket past 1.25 x 10), long ones together, the giant alone
    assert buckets == [[0, 4, 2], [6], [3, 1], [5]]


def test_sft_loss_averages_over_target_tokens():
    logp = torch.tensor([[-1.0, -3.0], [-2.0, -9.0]])
    assert sft_loss(logp, torch.tensor([[1.0, 1.0], [1.0, 0.0]])).item() == pytest.approx(2.0)


def test_turn_returns_shape_every_correction_against_the_attempt_before():
    rewards = torch.tensor([[0.0, 1.0, 0.0]])  # wrong, right, wrong
    out = turn_returns(rewards, torch.zeros(1, 3), torch.ones(3), torch.zeros(3), alpha=10.0)
    assert out.tolist() == [[0.0, 11.0, -10.0]]


def test_role_rloo_advantages_pool_a_roles_turns_over_the_problems_other_episodes():
    from score_env.learner.losses import role_rloo_advantages

    # problem 0: episode 0 = answer 1, verdict 1, answer 0; episode 1 = answer 0. problem 1: episode 2 = answer 1.
    returns = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0])
    group = torch.tensor([0, 0, 0, 0, 1])
    role = torch.tensor([0, 1, 0, 0, 0])
    episode = torch.tensor([0, 0, 0, 1, 2])
    valid = torch.ones(5, dtype=torch.bool)
    advantage = role_rloo_advantages(returns, group, role, episode, valid)
    # episode 0's answers: the other episode's answers average 0; episode 1's answer: episode 0's average 0.5;
    # the verdict and problem 1's lone answer have no peer of their role: their return stands
    assert advantage.tolist() == [1.0, 1.0, 0.0, -0.5, 1.0]
