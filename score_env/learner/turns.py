"""REINFORCE over turns, for episodes whose length the policy or the env decides (verify-then-revise, the oracle
track): every turn is a sample of its role, with its own reward and KL, and a leave-one-out baseline over the same
role's turns of the problem's other episodes (``role_rloo_advantages``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.losses import KLEstimator, reinforce_loss, role_rloo_advantages
from score_env.learner.reference import Reference
from score_env.learner.rl import StepResult
from score_env.learner.terms import turn_terms
from score_env.records import Attempt, Episode, EpisodeGroup, GradeReason

ANSWER, VERDICT = 0, 1


@dataclass(frozen=True)
class TurnStage:
    """The numbers of a turn-wise update: the weight of a verdict's reward, and the KL weight on every turn."""

    name: str
    verdict_weight: float
    beta: float
    kl_estimator: KLEstimator = "sum"


@dataclass(frozen=True)
class _Turn:
    group: int
    episode: int
    role: int
    record: Attempt


def turn_loss(
    model: Any, reference: Reference, tokenizer: Any, groups: Sequence[EpisodeGroup], stage: TurnStage
) -> StepResult:
    """The loss over every turn of ``groups``: −A·log π(turn) + β·KL(turn), A = (w·r − β·KL) minus its per-role
    leave-one-out baseline (γ = 0). A turn graded ``error`` carries no reward signal."""
    episodes = [e for g in groups for e in g.episodes]
    turns = [_Turn(g, i, role, record) for g, i, e in _numbered(groups) for role, record in _in_order(e)]
    by_episode: list[list[Attempt]] = [[] for _ in episodes]
    for t in turns:
        by_episode[t.episode].append(t.record)
    logps, kls = turn_terms(model, reference, tokenizer, by_episode, stage.kl_estimator)
    logp = torch.stack([x for row in logps for x in row])  # [N]
    kl = torch.stack([x for row in kls for x in row])  # [N]
    device = logp.device
    role = torch.tensor([t.role for t in turns], device=device)
    reward = torch.tensor([t.record.reward for t in turns], device=device)
    weight = torch.where(role == VERDICT, stage.verdict_weight, 1.0)
    valid = torch.tensor([t.record.grade.reason is not GradeReason.ERROR for t in turns], device=device)
    returns = weight * reward - stage.beta * kl.detach()
    group = torch.tensor([t.group for t in turns], device=device)
    episode = torch.tensor([t.episode for t in turns], device=device)
    advantage = role_rloo_advantages(returns, group, role, episode, valid)
    loss = reinforce_loss(logp, advantage, kl, stage.beta, valid)
    return StepResult(loss, (loss,), _metrics(episodes, turns, kl.detach(), valid))


def _numbered(groups: Sequence[EpisodeGroup]) -> list[tuple[int, int, Episode]]:
    out, index = [], 0
    for g, group in enumerate(groups):
        for episode in group.episodes:
            out.append((g, index, episode))
            index += 1
    return out


def _in_order(episode: Episode) -> list[tuple[int, Attempt]]:
    """(role, turn) in the order the turns were given: attempt 1, its verdict, attempt 2, ..."""
    out = []
    for i, attempt in enumerate(episode.attempts):
        out.append((ANSWER, attempt))
        if i < len(episode.verdicts):
            out.append((VERDICT, episode.verdicts[i]))
    return out


def _metrics(episodes: Sequence[Episode], turns: Sequence[_Turn], kl: torch.Tensor, valid: torch.Tensor) -> dict:
    verdicts = [t for t in turns if t.role == VERDICT]
    n = len(episodes)
    metrics = {
        "reward@t1": sum(e.attempts[0].reward for e in episodes) / n,
        "reward@final": sum(e.attempts[-1].reward for e in episodes) / n,
        "attempts": sum(len(e.attempts) for e in episodes) / n,
        "kl": (kl * valid).sum().item() / max(1, int(valid.sum())),
        "errored": float(len(turns) - int(valid.sum())),
    }
    if verdicts:
        metrics["verdict_accuracy"] = sum(t.record.grade.correct for t in verdicts) / len(verdicts)
    return metrics
