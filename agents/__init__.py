"""Correction methods, one module each. :func:`build_agent` maps a validated agent config to its agent."""

from __future__ import annotations

from agents.prompting import PromptingAgent
from score_env.agent import Agent
from score_env.config import AgentConfig, PromptingAgentConfig
from score_env.policies import Policy


def build_agent(config: AgentConfig, base_policy: Policy) -> Agent:
    """The agent for ``config``, starting from ``base_policy``."""
    match config:
        case PromptingAgentConfig():
            return PromptingAgent(config, base_policy)
    raise TypeError(f"no agent for config of type {type(config).__name__}")  # unreachable while the union is matched


__all__ = ["PromptingAgent", "build_agent"]
