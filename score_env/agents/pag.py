"""Verify-then-revise RL after PAG (Jiang et al., 2025, "Multi-Turn Reinforced LLM Self-Correction with Policy as
Generative Verifier", arXiv 2506.10406): one policy answers, judges its own answer, and revises only when its own
verdict says wrong. Each update: draw P problems, play k verify-then-revise episodes each (``stop="model_decides"``),
reward every turn (an attempt for being right, a verdict for being right about the attempt it judged), and take one
REINFORCE step with turn-independent, per-role leave-one-out advantages (``turn_loss``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar, Literal, Self

from pydantic import Field, PositiveFloat, PositiveInt

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.turns import TurnStage, turn_loss
from score_env.policies import ModelPolicy, Policy
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


class PagAgentConfig(Strict):
    """Verify-then-revise RL after PAG (Jiang et al., 2025, arXiv 2506.10406): after each attempt the policy judges
    its own answer; it revises only when its verdict says wrong. REINFORCE rewards every turn (an attempt: being
    right; a verdict: being right about the attempt), with turn-independent, per-role leave-one-out advantages."""

    kind: Literal["pag"] = "pag"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
    lr: PositiveFloat = 1e-6
    """Adam learning rate (PAG trains Qwen2.5 models at 1e-6)."""
    steps: PositiveInt = 100
    """RL updates."""
    max_attempts: int = Field(2, ge=2)
    """Attempts per episode at most (each but the last followed by a self-verdict)."""
    verdict_weight: float = Field(1.0, ge=0)
    """Weight of a verdict turn's reward (0: verdicts are not trained)."""
    beta: float = Field(0.01, ge=0)
    """KL weight on every turn."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-turn KL estimator."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes."""
        return self.model_copy(update={"steps": budget.updates})

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "intrinsic", "model_decides")


@dataclass(frozen=True)
class PagAgent:
    config: PagAgentConfig
    base_policy: ModelPolicy  # trained in place
    name: str = "pag"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        stage = TurnStage("pag", c.verdict_weight, c.beta, c.kl_estimator)
        train_turnwise(self.base_policy, session, plan, c.steps, c.episode(), stage)


def train_turnwise(
    policy: ModelPolicy,
    session: TrainingSession,
    plan: TrainingPlan,
    steps: int,
    episode: EpisodeSettings,
    stage: TurnStage,
    first_step: int = 0,
) -> None:
    """``steps`` turn-wise REINFORCE updates on episodes played with ``episode``'s settings, global steps
    ``first_step ...`` (shared by PAG, the oracle-track agent and self-rewarding correction's RL stage, which follows
    its fine-tuning: only the env's settings and the verdict weight differ)."""
    env = replace(plan.env, feedback=episode.feedback, stop=episode.stop)
    session.show_progress(first_step + steps)
    for step in session.steps(steps, first_step):
        groups = collect_episodes(
            partial(env, episode.max_attempts),
            policy,
            session.problem_batch(step, plan.n_problems, plan.problems_per_step),
            replace(plan.sampling, seed=None),
            samples_per_problem=plan.samples_per_problem,
            seed=session.step_seed(step),
            grading_threads=plan.grading_threads,
        )
        result = turn_loss(session.model, session.reference, session.tokenizer, groups, stage)
        grad_norm = session.update(result.loss)
        episodes = float(sum(len(g.episodes) for g in groups))
        metrics = {**result.metrics, "loss": result.loss.item(), "grad_norm": grad_norm, "episodes": episodes}
        session.record_samples(step + 1, stage.name, [g.episodes[0] for g in groups])
        session.end_step(0, stage.name, metrics, reward=result.metrics["reward@final"])


register_agent("pag", PagAgentConfig, PagAgent)
