"""The oracle track (multi-attempt RL, arXiv 2503.04808; UFO, arXiv 2507.14295): the env tells the model "Your
previous answer is incorrect." and the episode ends at the first right answer (``feedback="oracle"``,
``stop="on_correct"``). Every attempt is rewarded for being right, with per-problem leave-one-out advantages over the
attempts of the problem's other episodes. The model is told whether it was right: a different setting from
intrinsic self-correction, reported in its own table.
"""

from __future__ import annotations

from dataclasses import dataclass

from score_env.agents.pag import train_turnwise
from score_env.config import MultiAttemptAgentConfig
from score_env.learner.turns import TurnStage
from score_env.policies import ModelPolicy, Policy
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


@dataclass(frozen=True)
class MultiAttemptAgent:
    config: MultiAttemptAgentConfig
    base_policy: ModelPolicy  # trained in place
    name: str = "multi_attempt"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        stage = TurnStage("multi-attempt", verdict_weight=0.0, beta=c.beta, kl_estimator=c.kl_estimator)
        train_turnwise(self.base_policy, session, plan, c.steps, c.episode(), stage)
