"""Configuration: typed settings per command (``commands``, ``benchmark``), the shared pieces (``policy``), agents
(``agents``), loading and merging (``load``), readable errors (``errors``)."""

from score_env.config.agents import (
    AgentConfig,
    AgentSpec,
    Budget,
    EpisodeSettings,
    TrainedAgentConfig,
    agent_config,
    build_agent,
    register_agent,
    registered_agents,
)
from score_env.config.benchmark import BenchmarkConfig, SweepConfig
from score_env.config.commands import EvalConfig, PretrainConfig, TinyModelConfig, TrainConfig, ValidateConfig
from score_env.config.errors import ConfigError
from score_env.config.load import agent_names, configs_dir, load_agent_config, load_config, validate
from score_env.config.policy import LoraConfig, PolicyConfig, SamplingConfig

__all__ = [
    "AgentConfig",
    "AgentSpec",
    "BenchmarkConfig",
    "Budget",
    "ConfigError",
    "EpisodeSettings",
    "EvalConfig",
    "LoraConfig",
    "PolicyConfig",
    "PretrainConfig",
    "SamplingConfig",
    "SweepConfig",
    "TinyModelConfig",
    "TrainConfig",
    "TrainedAgentConfig",
    "ValidateConfig",
    "agent_config",
    "agent_names",
    "build_agent",
    "configs_dir",
    "load_agent_config",
    "load_config",
    "register_agent",
    "registered_agents",
    "validate",
]
