"""Verify-then-revise RL after PAG (Jiang et al., 2025, "Multi-Turn Reinforced LLM Self-Correction with Policy as
Generative Verifier", arXiv 2506.10406): one policy answers, judges its own answer, and revises only when its own
verdict says wrong. Each update: draw P problems, play k verify-then-revise episodes each (``stop="model_decides"``),
reward every turn (an attempt for being right, a verdict for being right about the attempt it judged), and take one
REINFORCE step with turn-independent, per-role leave-one-out advantages (``turn_loss``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from score_env.config import EpisodeSettings, PagAgentConfig
from score_env.learner.turns import TurnStage, turn_loss
from score_env.policies import ModelPolicy, Policy
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


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
) -> None:
    """``steps`` turn-wise REINFORCE updates on episodes played with ``episode``'s settings (shared by PAG and the
    oracle-track agent: only the env's settings and the verdict weight differ)."""
    env = replace(plan.env, feedback=episode.feedback, stop=episode.stop)
    session.show_progress(steps)
    for step in range(session.step, steps):
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
