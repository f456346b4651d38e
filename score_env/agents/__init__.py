"""Correction methods, one module each. :func:`build_agent` maps a validated agent config to its agent."""

from __future__ import annotations

from score_env.agents.multi_attempt import MultiAttemptAgent
from score_env.agents.pag import PagAgent
from score_env.agents.prompting import PromptingAgent
from score_env.agents.score import ScoreAgent
from score_env.agents.sft import SFTAgent
from score_env.agents.star import StarAgent
from score_env.config import (
    AgentConfig,
    MultiAttemptAgentConfig,
    PagAgentConfig,
    PromptingAgentConfig,
    ScoreAgentConfig,
    SFTAgentConfig,
    StarAgentConfig,
)
from score_env.policies import Policy
from score_env.training.agent import Agent


def build_agent(config: AgentConfig, base_policy: Policy) -> Agent:
    """The agent for ``config``, starting from ``base_policy``.

    Trained agents need a :class:`~score_env.policies.ModelPolicy`: they train its model in place.
    """
    match config:
        case PromptingAgentConfig():
            return PromptingAgent(config, base_policy)
        case SFTAgentConfig():
            return SFTAgent(config, base_policy)
        case StarAgentConfig():
            return StarAgent(config, base_policy)
        case ScoreAgentConfig():
            return ScoreAgent(config, base_policy)
        case PagAgentConfig():
            return PagAgent(config, base_policy)
        case MultiAttemptAgentConfig():
            return MultiAttemptAgent(config, base_policy)
    raise TypeError(f"no agent for config of type {type(config).__name__}")


__all__ = ["MultiAttemptAgent", "PagAgent", "PromptingAgent", "SFTAgent", "ScoreAgent", "StarAgent", "build_agent"]
