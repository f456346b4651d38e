"""Configuration: typed settings per command (``commands``, ``benchmark``), the shared pieces (``policy``), agents
(``agents``), loading and merging (``load``), readable errors (``errors``)."""

from score_env.config.agents import (
    AgentConfig,
    Budget,
    EpisodeSettings,
    MultiAttemptAgentConfig,
    PagAgentConfig,
    PromptingAgentConfig,
    ScoreAgentConfig,
    SFTAgentConfig,
    StarAgentConfig,
)
from score_env.config.benchmark import BenchmarkConfig, SweepConfig
from score_env.config.commands import EvalConfig, PretrainConfig, TinyModelConfig, TrainConfig
from score_env.config.errors import ConfigError
from score_env.config.load import agent_names, configs_dir, load_agent_config, load_config, validate
from score_env.config.policy import LoraConfig, PolicyConfig, SamplingConfig

__all__ = [
    "AgentConfig",
    "BenchmarkConfig",
    "Budget",
    "ConfigError",
    "EpisodeSettings",
    "EvalConfig",
    "LoraConfig",
    "MultiAttemptAgentConfig",
    "PagAgentConfig",
    "PolicyConfig",
    "PretrainConfig",
    "PromptingAgentConfig",
    "SFTAgentConfig",
    "SamplingConfig",
    "ScoreAgentConfig",
    "StarAgentConfig",
    "SweepConfig",
    "TinyModelConfig",
    "TrainConfig",
    "agent_names",
    "configs_dir",
    "load_agent_config",
    "load_config",
    "validate",
]
