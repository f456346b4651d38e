"""SCoRe (Kumar et al., 2024): two-stage multi-turn REINFORCE with RLOO, per-attempt KL and reward shaping.

Reads top to bottom in the paper's order: build the stages from the config (Stage I, then Stage II, or an
ablation), then for every update: draw P problems, play k two-attempt episodes each at temperature 1.0, compute the
stage's loss (``score_loss``), step the optimizer, log and checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar, Literal, Self

from pydantic import Field, PositiveFloat

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.rl import score_loss
from score_env.learner.stages import Stage, score_stages, stage_at
from score_env.policies import ModelPolicy, Policy
from score_env.records import EpisodeGroup
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


class ScoreAgentConfig(Strict):
    """SCoRe: REINFORCE with a leave-one-out baseline and per-attempt KL to the base model, in two stages."""

    kind: Literal["score"] = "score"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
    lr: PositiveFloat = 5e-6
    """Adam learning rate (the paper, MATH: 5e-6)."""
    stage1_steps: int = Field(50, ge=0)
    """Stage I updates (not reported by the paper; 0 = the "w/o Stage I" ablation)."""
    stage2_steps: int = Field(50, ge=0)
    """Stage II updates."""
    alpha: float = Field(10.0, ge=0)
    """Reward-shaping weight α in r2 + α(r2 − r1) (the paper: 10; 0 = the "w/o reward shaping" ablation)."""
    beta1: float = Field(0.01, ge=0)
    """KL weight β1 (the paper: 0.01)."""
    beta2: float = Field(0.1, ge=0)
    """Stage I KL weight β2 on attempt 1 (the paper: 0.1 on MATH, 0.25 on MBPP)."""
    multi_turn: bool = True
    """False = the "single-turn RL" ablation: train attempt 1 only, for stage1_steps + stage2_steps updates."""
    baseline: Literal["rloo", "batch_mean", "none"] = "rloo"
    """Baseline for the advantages."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-attempt KL: the log-ratio summed over the attempt's tokens, or the k3 estimator."""
    base_first_attempt_fraction: float = Field(0.0, ge=0, le=1)
    """Fraction of problems whose attempt 1 is sampled from the base model (SCoRe's optional mixing)."""
    attempts: int = Field(2, ge=2)
    """Attempts per episode (the paper: 2; its appendix extends SCoRe to 3 with a Stage I per extra attempt)."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes: half in Stage I, half in Stage II (all in Stage II for the
        "w/o Stage I" ablation, whose ``stage1_steps`` is 0; all single-turn for that ablation)."""
        first = 0 if self.multi_turn and self.stage1_steps == 0 else budget.updates // 2
        return self.model_copy(update={"stage1_steps": first, "stage2_steps": budget.updates - first})

    def episode(self) -> EpisodeSettings:
        """Evaluated on its attempts (single-turn RL as well: it is evaluated like every method, on two)."""
        return EpisodeSettings(max(self.attempts, 2))


@dataclass(frozen=True)
class ScoreAgent:
    config: ScoreAgentConfig
    base_policy: ModelPolicy  # trained in place
    name: str = "score"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        stages = stages_for(c)
        base = self._base_sampler(session)
        session.show_progress(sum(s.steps for s in stages))
        for step in session.steps(sum(s.steps for s in stages)):
            index, stage = stage_at(stages, step)
            problems = session.problem_batch(step, plan.n_problems, plan.problems_per_step)
            n_base = round(c.base_first_attempt_fraction * len(problems)) if stage.attempts > 1 else 0
            groups: list[EpisodeGroup] = []
            for chunk, first in ((problems[:n_base], base), (problems[n_base:], None)):
                if chunk:
                    groups += collect_episodes(
                        partial(plan.env, stage.attempts),
                        self.base_policy,
                        chunk,
                        replace(plan.sampling, seed=None),
                        samples_per_problem=plan.samples_per_problem,
                        seed=session.step_seed(step),
                        grading_threads=plan.grading_threads,
                        first_attempt_policy=first,
                    )
            result = score_loss(session.model, session.reference, session.tokenizer, groups, stage)
            grad_norm = session.update(result.loss)
            episodes = float(sum(len(g.episodes) for g in groups))
            metrics = {**result.metrics, "loss": result.loss.item(), "grad_norm": grad_norm, "episodes": episodes}
            session.record_samples(step + 1, stage.name, [g.episodes[0] for g in groups])  # as end_step numbers it
            last = step + 1 < sum(s.steps for s in stages) and stage_at(stages, step + 1)[0] != index
            reward = result.metrics[f"reward@t{stage.attempts}"]
            session.end_step(index, stage.name, metrics, reward=reward, last_of_stage=last)

    def _base_sampler(self, session: TrainingSession) -> Policy | None:
        """The base model as a sampler of first attempts (for the optional mixing): the frozen reference (with LoRA,
        the model with its adapter switched off)."""
        if not self.config.base_first_attempt_fraction:
            return None
        return session.reference.sampler(session.tokenizer, self.base_policy.batch_size)


def stages_for(config: ScoreAgentConfig) -> list[Stage]:
    """The stages an agent config describes (SCoRe, or one of its ablations)."""
    return score_stages(
        stage1_steps=config.stage1_steps,
        stage2_steps=config.stage2_steps,
        alpha=config.alpha,
        beta1=config.beta1,
        beta2=config.beta2,
        multi_turn=config.multi_turn,
        baseline=config.baseline,
        kl_estimator=config.kl_estimator,
        attempts=config.attempts,
    )


register_agent("score", ScoreAgentConfig, ScoreAgent)
