"""SCoRe (Kumar et al., 2024): two-stage multi-turn REINFORCE with RLOO, per-attempt KL and reward shaping.

Reads top to bottom in the paper's order: build the stages from the config (Stage I, then Stage II, or an
ablation), then for every update: draw P problems, play k two-attempt episodes each at temperature 1.0, compute the
stage's loss (``score_loss``), step the optimizer, log and checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from score_env.config import ScoreAgentConfig
from score_env.learner.rl import score_loss
from score_env.learner.stages import Stage, score_stages, stage_at
from score_env.policies import ModelPolicy, Policy
from score_env.records import EpisodeGroup
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


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
        for step in range(session.step, sum(s.steps for s in stages)):
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
