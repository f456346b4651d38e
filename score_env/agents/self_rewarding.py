"""Self-rewarding correction after Xiong et al. (2025, "Self-rewarding correction for mathematical reasoning",
arXiv 2502.19613): one policy answers, judges its own answer, and revises only when its own verdict says wrong,
learnt in two stages.

(a) **Self-rewarding fine-tuning.** Rejection sampling from the base model: play verify-then-revise episodes
    (``stop="model_decides"``), keep those in which every step is right (every verdict agrees with the grade of the
    attempt it judged, and the final attempt is right: a right answer the model calls right, or a wrong one it calls
    wrong and then fixes), and fine-tune on their turns (``keep_trajectories``, ``trajectory_examples``).
(b) **RL on the verify-then-revise episodes** with rule-based rewards: an attempt earns 1 for a right answer, a
    verdict 1 for being right about the attempt it judged; one REINFORCE step per update with per-role leave-one-out
    advantages (PAG's ``turn_loss``, through :func:`score_env.agents.pag.train_turnwise`).

What score-env does differently, and why:

- The paper's *sequential* rejection sampling draws each step of a trajectory apart (answers first, then verdicts
  on them, then revisions of the wrong ones, keeping right ones at each step). Here whole episodes are sampled
  ``samples`` times per problem and kept when every step is right: the same env and prompts as the RL stage and
  every other method, at the benchmark's budget of sampled episodes.
- Each turn of a kept trajectory is an SFT example given the conversation before it, and a wrong first answer is
  context only, never a target: fine-tuning should not raise the likelihood of wrong answers (the verdict that calls
  it wrong, and the fix, are targets).
- The paper's RL stage is PPO (and multi-turn DPO) on Llama-3 and Qwen2.5 models; here it is the project's one
  learner (REINFORCE with leave-one-out baselines and a KL to the reference, as for PAG), with a reward on every
  turn, since rewarding only the final answer teaches a verifier to call everything correct (PAG's appendix).
- One Adam learning rate serves both stages (a run has one optimizer); the paper sets each stage's own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar, Literal, Self

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from score_env.agents.pag import train_turnwise
from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.turns import TurnStage
from score_env.policies import ModelPolicy, Policy
from score_env.records import Episode, Message, flatten
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession
from score_env.training.sft import epoch_updates, sft_updates
from score_env.training.streams import Stream


class SelfRewardingAgentConfig(Strict):
    """Self-rewarding correction (Xiong et al., 2025, arXiv 2502.19613): fine-tune on the base model's own
    verify-then-revise episodes in which every step is right, then RL with rewards for answers and verdicts."""

    kind: Literal["self_rewarding"] = "self_rewarding"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
    lr: PositiveFloat = 1e-6
    """Adam learning rate of both stages."""
    sft_problems: NonNegativeInt = 256
    """Stage (a): problems to sample the base model's verify-then-revise episodes on (each ``samples`` times)."""
    sft_updates: NonNegativeInt | None = None
    """Stage (a): gradient updates over the kept trajectories' turns (null = ``sft_epochs`` passes; 0 = no stage a)."""
    sft_epochs: PositiveInt = 1
    """Stage (a): passes over the kept turns when ``sft_updates`` is null."""
    batch_size: PositiveInt = 16
    """Stage (a): turns per update."""
    rl_steps: NonNegativeInt = 100
    """Stage (b): RL updates, each on P x k episodes."""
    max_attempts: int = Field(2, ge=2)
    """Attempts per episode at most (each but the last followed by a self-verdict)."""
    verdict_weight: float = Field(1.0, ge=0)
    """Stage (b): weight of a verdict turn's reward (0: verdicts are not trained by RL)."""
    beta: float = Field(0.01, ge=0)
    """Stage (b): KL weight on every turn."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Stage (b): per-turn KL estimator."""

    def with_budget(self, budget: Budget) -> Self:
        """Half the updates fine-tune (on ``updates // 2 x P`` problems sampled up front, k each), the rest are RL
        updates of P x k episodes: ``updates x P x k`` episodes in all."""
        first = budget.updates // 2
        return self.model_copy(
            update={"sft_problems": first * budget.problems, "sft_updates": first, "rl_steps": budget.updates - first}
        )

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "intrinsic", "model_decides")

    def rl_stage(self) -> TurnStage:
        """Stage (b)'s numbers for ``turn_loss``."""
        return TurnStage("self-rewarding-rl", self.verdict_weight, self.beta, self.kl_estimator)


@dataclass(frozen=True)
class SelfRewardingAgent:
    config: SelfRewardingAgentConfig
    base_policy: ModelPolicy  # trained in place
    name: str = "self_rewarding"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        rows = [] if c.sft_updates == 0 or c.sft_problems == 0 else self._trajectories(session, plan)
        examples = [(tuple(Message.from_dict(m) for m in r["prompt"]), r["target"]) for r in rows]
        updates = (
            c.sft_updates if c.sft_updates is not None else epoch_updates(len(examples), c.batch_size, c.sft_epochs)
        )
        session.show_progress(updates + c.rl_steps)
        sft_updates(
            session, examples, batch_size=c.batch_size, updates=updates, first_step=0, stage=0, stage_name="self-sft"
        )
        # RL's global steps follow the fine-tuning's whether or not it had examples, so a resumed run lines up
        train_turnwise(self.base_policy, session, plan, c.rl_steps, c.episode(), c.rl_stage(), first_step=updates)

    def _trajectories(self, session: TrainingSession, plan: TrainingPlan) -> list[dict]:
        """Stage (a)'s SFT examples: sampled once from the base model, saved, reloaded by a resumed run."""
        rows = session.load_data("trajectories")
        if rows is None:
            c = self.config
            env = replace(plan.env, feedback="intrinsic", stop="model_decides")
            groups = collect_episodes(
                partial(env, c.max_attempts),
                self.base_policy,
                session.problem_batch(0, plan.n_problems, c.sft_problems),
                plan.sampling,
                samples_per_problem=plan.samples_per_problem,
                seed=session.step_seed(0, Stream.SAMPLING),
                grading_threads=plan.grading_threads,
            )
            episodes = flatten(groups)
            rows = trajectory_examples(keep_trajectories(episodes))
            session.save_data("trajectories", rows, episodes=len(episodes))
        return rows


def keep_trajectories(episodes: list[Episode]) -> list[Episode]:
    """The episodes in which every step is right: each verdict agrees with the grade of the attempt it judged (a
    verdict whose attempt could not be graded, or that could not be read, is not right), and the last attempt is
    right. So a right answer called right, or wrong answers called wrong and then fixed."""
    return [
        e
        for e in episodes
        if e.attempts[-1].grade.correct
        and len(e.verdicts) >= len(e.attempts) - 1
        and all(v.grade.correct for v in e.verdicts)
    ]


def trajectory_examples(episodes: list[Episode]) -> list[dict]:
    """One SFT example per turn of each episode, in order (attempt 1, its verdict, attempt 2, ...): the turn's
    conversation → its tokens. A wrong attempt is context for the turns after it, never a target."""
    rows = []
    for episode in episodes:
        for i, attempt in enumerate(episode.attempts):
            turns = [attempt, *episode.verdicts[i : i + 1]]
            for turn in turns:
                if turn is attempt and not attempt.grade.correct:
                    continue
                rows.append({"prompt": [m.as_dict() for m in turn.prompt], "target": list(turn.token_ids)})
    return rows


register_agent("self_rewarding", SelfRewardingAgentConfig, SelfRewardingAgent)
