"""One REINFORCE update of SCoRe (or an ablation) on a batch of episodes: the learner ``match``es nothing but data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.losses import advantages, reinforce_loss, turn_returns
from score_env.learner.reference import Reference
from score_env.learner.stages import Stage
from score_env.learner.terms import turn_terms
from score_env.records import Episode, EpisodeGroup, GradeReason, flatten


@dataclass(frozen=True)
class StepResult:
    loss: torch.Tensor  # scalar, with gradient: the sum of attempt_losses
    attempt_losses: tuple[torch.Tensor, ...]  # one scalar per attempt, with gradient
    metrics: dict[str, float]


def score_loss(
    model: Any,
    reference: Reference,
    tokenizer: Any,
    groups: Sequence[EpisodeGroup],
    stage: Stage,
    trained: torch.Tensor | None = None,
) -> StepResult:
    """The stage's loss on ``groups`` (P problems, each with its k episodes, as ``collect_episodes`` returns them).

    Per episode and attempt t: log π(attempt) and KL_t (policy forward with gradient, reference forward without);
    returns G = w·r̃ − β·KL (γ = 0); advantages (RLOO within each problem's group); loss_t = −A_t·log π(attempt) +
    β_t·KL_t. Attempts sampled from the base model (``Attempt.from_base``) are context only: no loss on their
    tokens. An episode with a grading ``error`` in the attempts the stage uses carries no reward signal: it is left
    out of the loss and of every baseline, and counted (``errored``). ``trained`` [B, A] (bool, default all) picks
    the attempts that get a loss: an attempt left out is out of its attempt's baseline too (ThinkTwice trains the
    refinement of only some first attempts).
    """
    device = next(model.parameters()).device
    n_attempts = stage.attempts
    episodes = flatten(groups)
    group = torch.tensor([g for g, grp in enumerate(groups) for _ in grp.episodes], device=device)  # [B]
    valid = torch.tensor([not _errored(e, n_attempts) for e in episodes], device=device)  # [B]
    rewards = torch.tensor(
        [[float(a.reward) for a in e.attempts[:n_attempts]] for e in episodes], device=device
    )  # [B, A]
    logps, kls = turn_terms(
        model, reference, tokenizer, [e.attempts[:n_attempts] for e in episodes], stage.kl_estimator
    )
    logp, kl = torch.stack([torch.stack(r) for r in logps]), torch.stack([torch.stack(r) for r in kls])  # [B, A] each
    weights = torch.tensor(stage.reward_weights, device=device)
    betas = torch.tensor(stage.betas, device=device)
    returns = turn_returns(rewards, kl.detach(), weights, betas, stage.alpha)  # [B, A]
    if trained is None:
        trained = torch.ones_like(rewards, dtype=torch.bool)
    kept = [valid & trained[:, t].to(device) for t in range(n_attempts)]  # [B] per attempt
    advantage = torch.stack(
        [advantages(returns[:, t : t + 1], group, kept[t], stage.baseline)[:, 0] for t in range(n_attempts)], 1
    )  # [B, A]
    losses = tuple(
        reinforce_loss(logp[:, t], advantage[:, t], kl[:, t], stage.betas[t], kept[t]) for t in range(n_attempts)
    )
    metrics = _metrics(episodes, rewards, kl.detach(), returns, valid, n_attempts)
    return StepResult(sum(losses), losses, metrics)


def _errored(episode: Episode, n_attempts: int) -> bool:
    return any(a.grade.reason is GradeReason.ERROR for a in episode.attempts[:n_attempts])


def _metrics(
    episodes: Sequence[Episode],
    rewards: torch.Tensor,
    kl: torch.Tensor,
    returns: torch.Tensor,
    valid: torch.Tensor,
    n_attempts: int,
) -> dict[str, float]:
    """Means over the episodes that carry a reward signal (``errored`` counts the others)."""
    weight = valid.float()
    n = weight.sum().clamp(min=1)
    kept = [e for e, v in zip(episodes, valid.tolist(), strict=True) if v]
    metrics = {"errored": float(len(episodes) - len(kept))}
    for t in range(n_attempts):
        metrics[f"reward@t{t + 1}"] = ((rewards[:, t] * weight).sum() / n).item()
        metrics[f"kl@t{t + 1}"] = ((kl[:, t] * weight).sum() / n).item()
        metrics[f"return@t{t + 1}"] = ((returns[:, t] * weight).sum() / n).item()
        metrics[f"tokens@t{t + 1}"] = sum(len(e.attempts[t].token_ids) for e in episodes) / len(episodes)
    if n_attempts > 1:
        metrics["delta"] = (((rewards[:, -1] - rewards[:, 0]) * weight).sum() / n).item()
        changed = [e.attempts[0].grade.extracted != e.attempts[n_attempts - 1].grade.extracted for e in kept]
        metrics["answer_changed"] = sum(changed) / max(1, len(kept))
    return metrics
