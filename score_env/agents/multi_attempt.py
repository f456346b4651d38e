"""The oracle track (multi-attempt RL, arXiv 2503.04808; UFO, arXiv 2507.14295): the env tells the model "Your
previous answer is incorrect." and the episode ends at the first right answer (``feedback="oracle"``,
``stop="on_correct"``). Every attempt is rewarded for being right, with per-problem leave-one-out advantages over the
attempts of the problem's other episodes. The model is told whether it was right: a different setting from
intrinsic self-correction, reported in its own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from pydantic import Field, PositiveFloat, PositiveInt

from score_env.agents.pag import train_turnwise
from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.turns import TurnStage
from score_env.policies import ModelPolicy, Policy
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


class MultiAttemptAgentConfig(Strict):
    """The oracle track (multi-attempt RL, arXiv 2503.04808): the env tells the model its answer was wrong and the
    episode ends at the first right one. Every attempt is rewarded for being right, with per-problem leave-one-out
    advantages. Oracle feedback is a different setting: reported apart from the intrinsic methods."""

    kind: Literal["multi_attempt"] = "multi_attempt"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
    lr: PositiveFloat = 1e-6
    """Adam learning rate."""
    steps: PositiveInt = 100
    """RL updates."""
    max_attempts: int = Field(3, ge=2)
    """Attempts at most (the episode ends at the first right one)."""
    beta: float = Field(0.01, ge=0)
    """KL weight on every attempt."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-attempt KL estimator."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes."""
        return self.model_copy(update={"steps": budget.updates})

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "oracle", "on_correct")


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


register_agent("multi_attempt", MultiAttemptAgentConfig, MultiAttemptAgent)
