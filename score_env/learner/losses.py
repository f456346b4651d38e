"""The learner's math, as small pure functions named after SCoRe (Kumar et al., 2024; docs/paper.md, "SCoRe").

Shapes: ``B`` episodes in a batch, ``A`` attempts, ``T`` token positions, ``G`` problems (groups). Which problem an
episode belongs to travels with it (``group`` [B]), so the k of RLOO is a property of the data.
"""

from __future__ import annotations

from typing import Literal

import torch

KLEstimator = Literal["sum", "k3"]
Baseline = Literal["rloo", "grpo", "batch_mean", "none"]


def gather_token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) per position: ``logits`` [B, T, V] predict ``targets`` [B, T]; returns [B, T]."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def attempt_kl(
    logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, estimator: KLEstimator = "sum"
) -> torch.Tensor:
    """Per-attempt KL to the reference [B], summed over the attempt's own tokens (``mask`` [B, T]).

    ``sum``: the per-token log-ratio log π − log π_ref summed over the attempt (docs/paper.md: "per-token log-ratio
    summed over the attempt's tokens"). ``k3``: the non-negative estimator exp(r) − r − 1 with r = log π_ref − log π
    (Schulman, "Approximating KL divergence", 2020). Both carry gradient through ``logp``.
    """
    log_ratio = logp - ref_logp
    per_token = log_ratio if estimator == "sum" else torch.exp(-log_ratio) + log_ratio - 1
    return (per_token * mask).sum(dim=-1)


def shaped_reward(r1: torch.Tensor, r2: torch.Tensor, alpha: float) -> torch.Tensor:
    """Stage II attempt-2 reward r2 + α·(r2 − r1): with α = 10, wrong→right 11, right→right 1, wrong→wrong 0,
    right→wrong −10 (docs/paper.md, "Stage II")."""
    return r2 + alpha * (r2 - r1)


def turn_returns(
    rewards: torch.Tensor, kls: torch.Tensor, reward_weights: torch.Tensor, betas: torch.Tensor, alpha: float
) -> torch.Tensor:
    """Per-attempt returns [B, A] with γ = 0: each attempt's tokens see only that attempt's own return.

    G_t = w_t·r̃_t − β_t·KL_t, where r̃_1 = r_1 and every later attempt's reward is shaped against the one before it
    (:func:`shaped_reward`; with two attempts only attempt 2 is shaped, as in the paper, and with three SCoRe's
    appendix shapes each correction). ``rewards``, ``kls`` [B, A]; ``reward_weights``, ``betas`` [A] come from the
    stage (Stage I: w = (0, 1), β = (β2, β1); Stage II: w = (1, 1), β = (β1, β1)).
    """
    shaped = rewards.clone()
    if rewards.shape[1] > 1 and alpha:
        shaped[:, 1:] = shaped_reward(rewards[:, :-1], rewards[:, 1:], alpha)
    return reward_weights * shaped - betas * kls


def rloo_advantages(returns: torch.Tensor, group: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """REINFORCE leave-one-out: each sample's baseline is the mean return of the other valid samples of its problem.

    ``returns`` [B, A]; ``group`` [B] (long) says which problem each episode belongs to, so the group size k is
    read off the data; ``valid`` [B] (bool) marks the episodes that carry a reward signal (a grading ``error`` is
    ours, not the model's: such an episode has advantage 0 and is nobody's baseline). A sample with no valid peer
    (k = 1) keeps its return as its advantage.
    """
    weight = valid.to(returns.dtype).unsqueeze(-1)  # [B, 1]
    n_groups = int(group.max()) + 1 if len(group) else 0
    sums = returns.new_zeros((n_groups, returns.shape[1])).index_add_(0, group, returns * weight)  # [G, A]
    counts = returns.new_zeros(n_groups).index_add_(0, group, weight.squeeze(-1))  # [G]
    others = (counts[group].unsqueeze(-1) - weight).clamp(min=0)  # [B, 1] valid peers of each sample
    baseline = (sums[group] - returns * weight) / others.clamp(min=1)
    return (returns - torch.where(others > 0, baseline, torch.zeros_like(baseline))) * weight


def grpo_advantages(
    rewards: torch.Tensor, group_size: int, eps: float = 1e-6, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """GRPO's outcome advantage (Shao et al., 2024, DeepSeekMath, eq. 3 with outcome supervision): each sample's
    reward minus its group's mean, over the group's standard deviation plus ``eps``.

    ``rewards`` [B] hold B / ``group_size`` problems' samples side by side (``group_size`` = k each). As in verl's
    ``compute_grpo_outcome_advantage`` the std is the unbiased one and a group of a single sample keeps its reward
    (mean 0, std 1). ``valid`` [B] (bool, default all): only valid samples enter their group's statistics; the
    others get advantage 0 (a grading error, or a sample the method does not train).
    """
    if group_size < 1 or rewards.shape[0] % group_size:
        raise ValueError(f"{rewards.shape[0]} rewards do not split into groups of {group_size}")
    mask = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid.bool()
    weight = mask.to(rewards.dtype).view(-1, group_size)  # [G, k]
    grouped = rewards.view(-1, group_size) * weight  # [G, k]
    count = weight.sum(dim=1, keepdim=True)  # [G, 1]
    mean = grouped.sum(dim=1, keepdim=True) / count.clamp(min=1)
    var = (((rewards.view(-1, group_size) - mean) * weight) ** 2).sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)
    alone = count <= 1
    mean = torch.where(alone, torch.zeros_like(mean), mean)
    std = torch.where(alone, torch.ones_like(var), var.sqrt())
    return ((rewards.view(-1, group_size) - mean) / (std + eps) * weight).view(-1)


def role_rloo_advantages(
    returns: torch.Tensor, group: torch.Tensor, role: torch.Tensor, episode: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Leave-one-out baselines for episodes of any length (verify-then-revise, the oracle track): every turn is a
    sample of its role (answer or verdict), and its baseline is the mean return of the same role's turns in the
    *other* episodes of its problem, whatever their turn index (PAG's turn-independent optimisation with advantages
    per role). Grouping by problem, never by turn index, keeps the baseline independent of the sample's own
    choices, among them where the episode stopped.

    ``returns``, ``group`` (problem), ``role`` (0 answer, 1 verdict), ``episode``, ``valid`` are [N] over turns.
    """
    key = group * 2 + role  # [N] (problem, role)
    own = episode * 2 + role  # [N] (episode, role)
    weight = valid.to(returns.dtype)
    total = returns.new_zeros(int(key.max()) + 1).index_add_(0, key, returns * weight)
    count = returns.new_zeros(int(key.max()) + 1).index_add_(0, key, weight)
    own_total = returns.new_zeros(int(own.max()) + 1).index_add_(0, own, returns * weight)
    own_count = returns.new_zeros(int(own.max()) + 1).index_add_(0, own, weight)
    others = count[key] - own_count[own]
    baseline = (total[key] - own_total[own]) / others.clamp(min=1)
    return (returns - torch.where(others > 0, baseline, torch.zeros_like(baseline))) * weight


def batch_mean_advantages(returns: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The plain baseline: the mean return (per attempt) over the valid episodes of the batch."""
    weight = valid.to(returns.dtype).unsqueeze(-1)  # [B, 1]
    mean = (returns * weight).sum(dim=0, keepdim=True) / weight.sum().clamp(min=1)
    return (returns - mean) * weight


def advantages(returns: torch.Tensor, group: torch.Tensor, valid: torch.Tensor, baseline: Baseline) -> torch.Tensor:
    match baseline:
        case "rloo":
            return rloo_advantages(returns, group, valid)
        case "grpo":
            size = group_size(group)
            return torch.stack([grpo_advantages(returns[:, t], size, valid=valid) for t in range(returns.shape[1])], 1)
        case "batch_mean":
            return batch_mean_advantages(returns, valid)
        case "none":
            return returns * valid.to(returns.dtype).unsqueeze(-1)
    raise ValueError(f"baseline must be rloo, grpo, batch_mean or none, got {baseline!r}")


def group_size(group: torch.Tensor) -> int:
    """k, for a batch whose problems each hold k samples side by side (``group`` [B] = 0,0,..,1,1,..); GRPO's
    normalisation needs that layout, which ``collect_episodes`` gives."""
    n_groups = int(group.max()) + 1 if len(group) else 1
    size = len(group) // n_groups
    expected = torch.arange(n_groups, device=group.device).repeat_interleave(size)
    if size * n_groups != len(group) or not torch.equal(group, expected):
        raise ValueError(f"GRPO needs every problem's samples side by side, k each; got groups {group.tolist()}")
    return size


def sequence_logprob(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log π(attempt) = Σ log π(token) over the attempt's own tokens: [B, T] -> [B]."""
    return (logp * mask).sum(dim=-1)


def reinforce_loss(
    sequence_logp: torch.Tensor,
    advantage: torch.Tensor,
    kl: torch.Tensor,
    beta: torch.Tensor | float,
    valid: torch.Tensor,
) -> torch.Tensor:
    """The loss of one attempt over the batch: −(advantage)·log π(attempt) + β·KL, mean over the valid episodes.

    ``advantage`` [B] is detached (the score-function weight; it already holds −β·KL through the return). The
    differentiable ``β·KL`` [B] adds the pathwise part of ∇E[−β·KL], so the KL term carries gradient (a detached
    KL is a known mistake of public reimplementations; docs/paper.md, "Stage I"). ``sequence_logp`` [B] with gradient.
    ``valid`` [B] (bool): episodes with a grading error contribute nothing.
    """
    weight = valid.to(sequence_logp.dtype)
    per_episode = -(advantage.detach() * sequence_logp) + beta * kl
    return (per_episode * weight).sum() / weight.sum().clamp(min=1)


def sft_loss(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the target tokens, averaged over target tokens."""
    return -(logp * mask).sum() / mask.sum().clamp(min=1)
