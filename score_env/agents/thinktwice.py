"""ThinkTwice (arXiv 2604.01591, 2026): GRPO on solving, then GRPO on one refinement of a first attempt, both on the
same binary reward, with no KL term; which first attempts get a refinement step is a setting (all of them uniformly,
or the wrong ones first). The paper trains Qwen3-4B with a verl fork (CSSLab/ThinkTwice) and reports, over plain
GRPO on AIME pass@4, +5 points before refinement and +11.5 after one.

Here it is a config of the one learner (``score_loss``), one update per step: draw P problems, play k two-attempt
episodes each (the intrinsic correction instruction: the refine prompt never says whether attempt 1 was right),
choose which episodes' refinements are trained (:func:`select_refinements`), and take one step on

    L = L_solve + L_refine,  L_t = −(1/|S_t|) Σ_{i ∈ S_t} A_{i,t} · log π(y_{i,t} | context),

with A_{i,t} = (r_{i,t} − mean) / (std + ε) over the problem's samples in S_t (``grpo_advantages``, per attempt:
the solve turn's group and the refine turn's group are normalised separately), S_1 = every episode, S_2 = the
selected refinements, r the binary reward, and β = 0 (no KL) unless ``beta`` is set.

What score-env does differently, and why:

- **One update per step over both turns.** The anchor describes GRPO on solving, then GRPO on refinement; we sum
  the two turns' losses into one optimizer step, so ThinkTwice spends exactly the benchmark's ``updates`` like
  every other method (score_env/config/agents.py, ``Budget``).
- **Refinements come from the same episodes.** Every episode plays both attempts and the selection decides which
  refinements are trained; verl samples refinements only for the selected first attempts, which saves generation
  we spend. The refine turn's group is the problem's selected episodes (one refinement per first attempt).
- **REINFORCE with a sequence log-probability, no PPO clip.** With one on-policy update per batch, GRPO's clipped
  ratio is 1 and its gradient is the policy gradient; we sum log π over the attempt's tokens (as every agent here
  does, so learning rates compare) where verl averages over tokens (``loss_agg_mode``).
- **β > 0** puts the KL in the return and in the loss, as for SCoRe, not verl's separate ``kl_loss``.
- The released script's other settings (rollouts per prompt, response lengths, lr schedule, batch sizes) are
  not reproduced: we could not read it, and the benchmark fixes them for every method alike (P, k, the budget).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar, Literal, Self

import torch
from pydantic import Field, PositiveFloat, PositiveInt

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.rl import score_loss
from score_env.learner.stages import Stage
from score_env.policies import ModelPolicy, Policy
from score_env.records import flatten
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession

Refine = Literal["all", "wrong_first"]


class ThinkTwiceAgentConfig(Strict):
    """ThinkTwice (arXiv 2604.01591): GRPO on solving and GRPO on one refinement, the same binary reward, no KL;
    group-normalised advantages per problem for each turn, and a setting for which first attempts are refined."""

    kind: Literal["thinktwice"] = "thinktwice"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
    lr: PositiveFloat = 1e-6
    """Adam learning rate (GRPO recipes on Qwen models use 1e-6)."""
    steps: PositiveInt = 100
    """RL updates (each trains both turns)."""
    refine: Refine = "all"
    """Which first attempts get a refinement step: ``all`` draws them uniformly; ``wrong_first`` takes the wrong
    ones first and fills the rest with right ones (the two agree when ``refine_fraction`` is 1)."""
    refine_fraction: float = Field(1.0, gt=0, le=1)
    """Fraction of each step's first attempts whose refinement is trained."""
    beta: float = Field(0.0, ge=0)
    """KL weight on both turns (ThinkTwice: none)."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-attempt KL estimator (used when ``beta`` > 0; logged either way)."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes."""
        return self.model_copy(update={"steps": budget.updates})

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(2)


def select_refinements(
    first_correct: Sequence[bool], refine: Refine, fraction: float, rng: random.Random
) -> list[bool]:
    """Which episodes' refinements are trained: round(fraction x B) of them (at least one), drawn uniformly
    (``all``) or the wrong first attempts first, then right ones (``wrong_first``); ties are drawn uniformly."""
    n = len(first_correct)
    quota = min(n, max(1, round(fraction * n)))
    order = list(range(n))
    rng.shuffle(order)
    if refine == "wrong_first":
        order.sort(key=lambda i: first_correct[i])  # stable: wrong (False) first, shuffled within each
    chosen = set(order[:quota])
    return [i in chosen for i in range(n)]


@dataclass(frozen=True)
class ThinkTwiceAgent:
    config: ThinkTwiceAgentConfig
    base_policy: ModelPolicy  # trained in place
    name: str = "thinktwice"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        stage = thinktwice_stage(c)
        session.show_progress(c.steps)
        for step in session.steps(c.steps):
            groups = collect_episodes(
                partial(plan.env, 2),
                self.base_policy,
                session.problem_batch(step, plan.n_problems, plan.problems_per_step),
                replace(plan.sampling, seed=None),
                samples_per_problem=plan.samples_per_problem,
                seed=session.step_seed(step),
                grading_threads=plan.grading_threads,
            )
            first_correct = [e.attempts[0].grade.correct for e in flatten(groups)]
            refined = select_refinements(
                first_correct, c.refine, c.refine_fraction, random.Random(session.step_seed(step))
            )
            trained = torch.tensor([[True, r] for r in refined])  # [B, 2]
            result = score_loss(session.model, session.reference, session.tokenizer, groups, stage, trained)
            grad_norm = session.update(result.loss)
            metrics = {
                **result.metrics,
                "loss": result.loss.item(),
                "grad_norm": grad_norm,
                "episodes": float(len(refined)),
                "refined": sum(refined) / len(refined),
            }
            session.record_samples(step + 1, stage.name, [g.episodes[0] for g in groups])
            session.end_step(0, stage.name, metrics, reward=result.metrics["reward@t2"])


def thinktwice_stage(config: ThinkTwiceAgentConfig) -> Stage:
    """Both turns rewarded by their own binary reward (no shaping), GRPO advantages, KL weight ``beta``."""
    return Stage("thinktwice", config.steps, (1.0, 1.0), (config.beta, config.beta), 0.0, "grpo", config.kl_estimator)


register_agent("thinktwice", ThinkTwiceAgentConfig, ThinkTwiceAgent)
