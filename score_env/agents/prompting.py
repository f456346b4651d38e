"""Prompting (Self-Refine style): the base model and the env's correction instruction; nothing is trained.

The paper's "base model" and "Self-Refine" rows: the model answers, sees its answer and the fixed instruction, and
answers again. Everything about the second turn comes from the env; this agent only supplies the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from score_env.config import PromptingAgentConfig
from score_env.policies import Policy
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession


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
