"""One REINFORCE update of SCoRe (or an ablation) on a batch of episodes: the learner ``match``es nothing but data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.batch import encode, length_buckets, pad_batch, token_logprobs
from score_env.learner.losses import (
    KLEstimator,
    advantages,
    attempt_kl,
    reinforce_loss,
    sequence_logprob,
    turn_returns,
)
from score_env.learner.reference import Reference
from score_env.learner.stages import Stage
from score_env.records import Episode

MAX_BUCKET_TOKENS = 16_384  # tokens (rows x padded length) per forward pass


@dataclass(frozen=True)
class StepResult:
    loss: torch.Tensor  # scalar, with gradient: the sum of attempt_losses
    attempt_losses: tuple[torch.Tensor, ...]  # one scalar per attempt, with gradient
    metrics: dict[str, float]


def score_loss(
    model: Any, reference: Reference, tokenizer: Any, episodes: Sequence[Episode], stage: Stage, k: int
) -> StepResult:
    """The stage's loss on ``episodes`` (P problems × k samples, in ``collect_episodes`` order).

    For each attempt t: log π(attempt) and KL_t per episode (one policy forward with gradient and one reference
    forward without, per length bucket); returns G = w·r̃ − β·KL (γ = 0); advantages (RLOO over the k samples);
    loss_t = −A_t·log π(attempt) + β_t·KL_t. Attempts sampled from the base model (``Attempt.from_base``) are context
    only: no loss on their tokens.
    """
    device = next(model.parameters()).device
    n_attempts = stage.attempts
    rewards = torch.tensor(
        [[float(a.reward) for a in e.attempts[:n_attempts]] for e in episodes], device=device
    )  # [B, A]
    terms = [_attempt_terms(model, reference, tokenizer, episodes, t, stage.kl_estimator) for t in range(n_attempts)]
    logp = torch.stack([lp for lp, _ in terms], dim=1)  # [B, A] log π(attempt), with gradient
    kl = torch.stack([k_ for _, k_ in terms], dim=1)  # [B, A], with gradient
    weights = torch.tensor(stage.reward_weights, device=device)
    betas = torch.tensor(stage.betas, device=device)
    returns = turn_returns(rewards, kl.detach(), weights, betas, stage.alpha)  # [B, A]
    advantage = advantages(returns, k, stage.baseline)  # [B, A]
    losses = tuple(reinforce_loss(logp[:, t], advantage[:, t], kl[:, t], stage.betas[t]) for t in range(n_attempts))
    return StepResult(sum(losses), losses, _metrics(episodes, rewards, kl.detach(), returns, n_attempts))


def _attempt_terms(
    model: Any, reference: Reference, tokenizer: Any, episodes: Sequence[Episode], t: int, estimator: KLEstimator
) -> tuple[torch.Tensor, torch.Tensor]:
    """[B] log π(attempt t) and [B] KL_t, both with gradient, computed bucket by bucket (similar lengths)."""
    device = next(model.parameters()).device
    encoded = encode(tokenizer, [(e.attempts[t].prompt, e.attempts[t].token_ids) for e in episodes])
    own = torch.tensor([0.0 if e.attempts[t].from_base else 1.0 for e in episodes], device=device)
    logps: list[torch.Tensor] = [torch.empty(0)] * len(episodes)
    kls: list[torch.Tensor] = [torch.empty(0)] * len(episodes)
    for bucket in length_buckets([len(row) for row, _ in encoded], MAX_BUCKET_TOKENS):
        batch = pad_batch(tokenizer, [encoded[i] for i in bucket], device)
        mask = batch.loss_mask * own[bucket][:, None]
        logp = token_logprobs(model, batch)  # [b, T-1]
        ref = reference.logprobs(batch)  # once per batch, without gradient
        for row, value, divergence in zip(
            bucket, sequence_logprob(logp, mask), attempt_kl(logp, ref, mask, estimator), strict=True
        ):
            logps[row], kls[row] = value, divergence
    return torch.stack(logps), torch.stack(kls)


def _metrics(
    episodes: Sequence[Episode], rewards: torch.Tensor, kl: torch.Tensor, returns: torch.Tensor, n_attempts: int
) -> dict[str, float]:
    metrics = {}
    for t in range(n_attempts):
        metrics[f"reward@t{t + 1}"] = rewards[:, t].mean().item()
        metrics[f"kl@t{t + 1}"] = kl[:, t].mean().item()
        metrics[f"return@t{t + 1}"] = returns[:, t].mean().item()
        metrics[f"tokens@t{t + 1}"] = sum(len(e.attempts[t].token_ids) for e in episodes) / len(episodes)
    if n_attempts > 1:
        metrics["delta"] = (rewards[:, -1] - rewards[:, 0]).mean().item()
        metrics["answer_changed"] = sum(
            e.attempts[0].grade.extracted != e.attempts[n_attempts - 1].grade.extracted for e in episodes
        ) / len(episodes)
    return metrics
