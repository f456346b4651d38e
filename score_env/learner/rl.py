"""One REINFORCE update of SCoRe (or an ablation) on a batch of episodes: the learner ``match``es nothing but data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.batch import encode_attempt, length_buckets, pad_batch, token_logprobs
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
from score_env.records import Episode, EpisodeGroup, GradeReason, flatten

MAX_BUCKET_TOKENS = 16_384  # tokens (rows x padded length) per forward pass
FUSE_ATTEMPTS = True  # read earlier attempts off the last attempt's row when the tokens match (tests switch it off)


@dataclass(frozen=True)
class StepResult:
    loss: torch.Tensor  # scalar, with gradient: the sum of attempt_losses
    attempt_losses: tuple[torch.Tensor, ...]  # one scalar per attempt, with gradient
    metrics: dict[str, float]


@dataclass(frozen=True)
class _Span:
    """Where attempt ``attempt`` of episode ``episode`` sits in a training row: its tokens are ids[start:end]."""

    episode: int
    attempt: int
    start: int
    end: int


def score_loss(
    model: Any, reference: Reference, tokenizer: Any, groups: Sequence[EpisodeGroup], stage: Stage
) -> StepResult:
    """The stage's loss on ``groups`` (P problems, each with its k episodes, as ``collect_episodes`` returns them).

    Per episode and attempt t: log π(attempt) and KL_t (policy forward with gradient, reference forward without);
    returns G = w·r̃ − β·KL (γ = 0); advantages (RLOO within each problem's group); loss_t = −A_t·log π(attempt) +
    β_t·KL_t. Attempts sampled from the base model (``Attempt.from_base``) are context only: no loss on their
    tokens. An episode with a grading ``error`` in the attempts the stage uses carries no reward signal: it is left
    out of the loss and of every baseline, and counted (``errored``).
    """
    device = next(model.parameters()).device
    n_attempts = stage.attempts
    episodes = flatten(groups)
    group = torch.tensor([g for g, grp in enumerate(groups) for _ in grp.episodes], device=device)  # [B]
    valid = torch.tensor([not _errored(e, n_attempts) for e in episodes], device=device)  # [B]
    rewards = torch.tensor(
        [[float(a.reward) for a in e.attempts[:n_attempts]] for e in episodes], device=device
    )  # [B, A]
    logp, kl = _attempt_terms(model, reference, tokenizer, episodes, n_attempts, stage.kl_estimator)  # [B, A] each
    weights = torch.tensor(stage.reward_weights, device=device)
    betas = torch.tensor(stage.betas, device=device)
    returns = turn_returns(rewards, kl.detach(), weights, betas, stage.alpha)  # [B, A]
    advantage = advantages(returns, group, valid, stage.baseline)  # [B, A]
    losses = tuple(
        reinforce_loss(logp[:, t], advantage[:, t], kl[:, t], stage.betas[t], valid) for t in range(n_attempts)
    )
    metrics = _metrics(episodes, rewards, kl.detach(), returns, valid, n_attempts)
    return StepResult(sum(losses), losses, metrics)


def _errored(episode: Episode, n_attempts: int) -> bool:
    return any(a.grade.reason is GradeReason.ERROR for a in episode.attempts[:n_attempts])


def _attempt_terms(
    model: Any,
    reference: Reference,
    tokenizer: Any,
    episodes: Sequence[Episode],
    n_attempts: int,
    estimator: KLEstimator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, A] log π(attempt) and [B, A] KL, with gradient.

    No duplicate forward passes: the last attempt's row (its prompt holds every earlier attempt) also yields the
    earlier attempts' log-probs whenever their tokens appear verbatim at the head of that row (re-tokenising the
    conversation reproduced the generated ids); only the other attempts get a row of their own. Rows are packed into
    length buckets, and the reference runs once per bucket, without gradient.
    """
    device = next(model.parameters()).device
    rows, spans = _rows_and_spans(tokenizer, episodes, n_attempts)
    own = {(i, t): not e.attempts[t].from_base for i, e in enumerate(episodes) for t in range(n_attempts)}
    logp: dict[tuple[int, int], torch.Tensor] = {}
    kl: dict[tuple[int, int], torch.Tensor] = {}
    for bucket in length_buckets([len(ids) for ids, _ in rows], MAX_BUCKET_TOKENS):
        batch = pad_batch(tokenizer, [rows[r] for r in bucket], device)
        policy_logp = token_logprobs(model, batch)  # [b, T-1]
        reference_logp = reference.logprobs(batch)
        for position, row in enumerate(bucket):
            for span in spans[row]:
                mask = torch.zeros_like(policy_logp[position])
                if own[span.episode, span.attempt]:
                    mask[span.start - 1 : span.end - 1] = 1.0  # predictions of ids[start:end]
                key = (span.episode, span.attempt)
                logp[key] = sequence_logprob(policy_logp[position], mask)
                kl[key] = attempt_kl(policy_logp[position], reference_logp[position], mask, estimator)
    keys = [[(i, t) for t in range(n_attempts)] for i in range(len(episodes))]
    return (
        torch.stack([torch.stack([logp[k] for k in row]) for row in keys]),
        torch.stack([torch.stack([kl[k] for k in row]) for row in keys]),
    )


def _rows_and_spans(
    tokenizer: Any, episodes: Sequence[Episode], n_attempts: int
) -> tuple[list[tuple[list[int], int]], list[list[_Span]]]:
    rows: list[tuple[list[int], int]] = []
    spans: list[list[_Span]] = []
    for i, episode in enumerate(episodes):
        attempts = episode.attempts[:n_attempts]
        encoded = [encode_attempt(tokenizer, a) for a in attempts]
        last_ids, last_start = encoded[-1]
        row_spans = [_Span(i, len(attempts) - 1, last_start, len(last_ids))]
        for t, (ids, start) in enumerate(encoded[:-1]):
            if FUSE_ATTEMPTS and last_ids[: len(ids)] == ids:  # attempt t sits verbatim at the head of the last row
                row_spans.append(_Span(i, t, start, len(ids)))
            else:
                rows.append((ids, start))
                spans.append([_Span(i, t, start, len(ids))])
        rows.append((last_ids, last_start))
        spans.append(row_spans)
    return rows, spans


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
