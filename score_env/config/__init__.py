"""Configuration: typed models (``models``), loading and merging (``load``), readable errors (``errors``)."""

from score_env.config.agents import (
    AgentConfig,
    PromptingAgentConfig,
    ScoreAgentConfig,
    SFTAgentConfig,
    StarAgentConfig,
)
from score_env.config.errors import ConfigError
from score_env.config.load import agent_names, configs_dir, load_config, validate
from score_env.config.models import EvalConfig, PolicyConfig, SamplingConfig, TrainConfig

__all__ = [
    "AgentConfig",
    "ConfigError",
    "EvalConfig",
    "PolicyConfig",
    "PromptingAgentConfig",
    "SFTAgentConfig",
    "SamplingConfig",
    "ScoreAgentConfig",
    "StarAgentConfig",
    "TrainConfig",
    "agent_names",
    "configs_dir",
    "load_config",
    "validate",
]
