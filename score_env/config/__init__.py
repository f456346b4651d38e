"""Configuration: typed models (``models``), loading and merging (``load``), readable errors (``errors``)."""

from score_env.config.errors import ConfigError
from score_env.config.load import agent_names, configs_dir, load_config, validate
from score_env.config.models import AgentConfig, EvalConfig, PolicyConfig, PromptingAgentConfig, SamplingConfig

__all__ = [
    "AgentConfig",
    "ConfigError",
    "EvalConfig",
    "PolicyConfig",
    "PromptingAgentConfig",
    "SamplingConfig",
    "agent_names",
    "configs_dir",
    "load_config",
    "validate",
]
