"""Prompting (Self-Refine style): the base model and the env's correction instruction; nothing is trained.

The paper's "base model" and "Self-Refine" rows: the model answers, sees its answer and the fixed instruction, and
answers again. Everything about the second turn comes from the env; this agent only supplies the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from pydantic import Field

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.policies import Policy
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


class PromptingAgentConfig(Strict):
    """The base model answering with the env's correction instruction; no training (Self-Refine style)."""

    kind: Literal["prompting"] = "prompting"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = False
    max_attempts: int = Field(2, ge=1)
    """Attempts per episode."""
    stop: Literal["fixed", "model_decides"] = "fixed"
    """``fixed``: always ``max_attempts``; ``model_decides``: the base model judges its own answer and revises only
    when its verdict says wrong (the prompted row of verify-then-revise)."""

    def with_budget(self, budget: Budget) -> Self:
        """Nothing to spend: prompting trains nothing."""
        return self

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "intrinsic", self.stop)


@dataclass(frozen=True)
class PromptingAgent:
    """An :class:`~score_env.training.agent.Agent` that plays the env with an untrained policy."""

    config: PromptingAgentConfig
    base_policy: Policy
    name: str = "prompting"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        """Nothing to train: prompting is the untouched base model."""


register_agent("prompting", PromptingAgentConfig, PromptingAgent)
