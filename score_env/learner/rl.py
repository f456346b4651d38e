"""One REINFORCE update of SCoRe (or an ablation) on a batch of episodes: the learner ``match``es nothing but data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.batch import build_batch, token_logprobs
from score_env.learner.losses import advantages, attempt_kl, reinforce_loss, turn_returns
from score_env.learner.reference import Reference
from score_env.learner.stages import Stage
from score_env.records import Episode


@dataclass(frozen=True)
class StepResult:
    loss: torch.Tensor  # scalar, with gradient: the sum of attempt_losses
    attempt_losses: tuple[torch.Tensor, ...]  # one scalar per attempt, with gradient
    metrics: dict[str, float]


def score_loss(
    model: Any, reference: Reference, tokenizer: Any, episodes: Sequence[Episode], stage: Stage, k: int
) -> StepResult:
    """The stage's loss on ``episodes`` (P problems × k samples, in ``collect_episodes`` order).

    For each attempt t: log-probs under the policy (with gradient) and the reference; KL_t per episode; returns
    G = w·r̃ − β·KL (γ = 0); advantages (RLOO over the k samples); loss_t = −A_t·Σ log π + β_t·KL_t. Attempts sampled
    from the base model (``Attempt.from_base``) are context only: no loss on their tokens.
    """
    device = next(model.parameters()).device
    n_attempts = stage.attempts
    rewards = torch.tensor(
        [[float(a.reward) for a in e.attempts[:n_attempts]] for e in episodes], device=device
    )  # [B, A]
    logps, masks, kls = [], [], []
    for t in range(n_attempts):
        batch = build_batch(tokenizer, [(e.attempts[t].prompt, e.attempts[t].token_ids) for e in episodes], device)
        own = torch.tensor([0.0 if e.attempts[t].from_base else 1.0 for e in episodes], device=device)
        logp = token_logprobs(model, batch)  # [B, T-1]
        mask = batch.loss_mask * own[:, None]
        logps.append(logp)
        masks.append(mask)
        kls.append(attempt_kl(logp, reference.logprobs(batch), mask, stage.kl_estimator))  # [B]
    kl = torch.stack(kls, dim=1)  # [B, A], with gradient
    weights = torch.tensor(stage.reward_weights, device=device)
    betas = torch.tensor(stage.betas, device=device)
    returns = turn_returns(rewards, kl.detach(), weights, betas, stage.alpha)  # [B, A]
    advantage = advantages(returns, k, stage.baseline)  # [B, A]
    losses = tuple(
        reinforce_loss(logps[t], masks[t], advantage[:, t], kl[:, t], stage.betas[t]) for t in range(n_attempts)
    )
    return StepResult(sum(losses), losses, _metrics(episodes, rewards, kl.detach(), returns, n_attempts))


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
