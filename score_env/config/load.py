"""Load a config: YAML preset -> agent file -> ``key=value`` overrides (OmegaConf), then validate (pydantic).

Every mistake becomes one :class:`ConfigError` naming the key, the bad value and the allowed values, raised before
anything heavy (a model, a dataset) is loaded.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ValidationError

from score_env.config.agents import AgentConfig
from score_env.config.errors import ConfigError, describe_validation_error

M = TypeVar("M", bound=BaseModel)


def configs_dir() -> Path:
    """The ``configs/`` folder shipped with the package."""
    return Path(str(resources.files("score_env.configs")))


def agent_names() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "agents").glob("*.yaml"))


def parse_overrides(overrides: Sequence[str]) -> list[str]:
    """Check that every override is ``key=value`` with a non-empty key."""
    for override in overrides:
        key, sep, _ = override.partition("=")
        if not sep or not key or key != key.strip():
            raise ConfigError(
                f"cannot read {override!r}: overrides are key=value (for example limit=20 or sampling.top_p=0.9)"
            )
    return list(overrides)


def load_config(model: type[M], preset: str, overrides: Sequence[str]) -> M:
    """Merge ``configs/<preset>.yaml`` (or ``config=<path>``), the agent file and ``overrides``; validate."""
    overrides = parse_overrides(overrides)
    pairs = [o.partition("=") for o in overrides]
    chosen = {k: v for k, _, v in pairs}
    base = _load_yaml(Path(chosen["config"]) if "config" in chosen else configs_dir() / f"{preset}.yaml")
    rest = [f"{k}={v}" for k, _, v in pairs if k != "config"]
    agent = chosen.get("agent", base.get("agent")) if "agent" in model.model_fields else None
    if isinstance(agent, str):
        base.agent = _load_agent(agent)
        rest = [o for o in rest if not o.startswith("agent=")]
    try:
        merged = OmegaConf.merge(base, OmegaConf.from_dotlist(rest))
        data = OmegaConf.to_container(merged, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(_describe_omegaconf_error(exc)) from None
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(model, exc)) from None


def load_agent_config(name: str) -> AgentConfig:
    """The validated config of ``configs/agents/<name>.yaml``."""
    from pydantic import TypeAdapter

    data = OmegaConf.to_container(_load_agent(name), resolve=True)
    try:
        return TypeAdapter(AgentConfig).validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"configs/agents/{name}.yaml: {exc.errors()[0]['msg']}") from None


def _load_agent(name: str) -> DictConfig:
    names = agent_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"agent={name!r} is not an agent. Allowed: {', '.join(names)}.{hint}")
    return _load_yaml(configs_dir() / "agents" / f"{name}.yaml")


def _load_yaml(path: Path) -> DictConfig:
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        loaded = OmegaConf.load(path)
    except (OmegaConfBaseException, ValueError) as exc:  # YAML syntax errors surface as ValueError subclasses
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, got a list")
    return loaded


def _describe_omegaconf_error(exc: OmegaConfBaseException) -> str:
    key = getattr(exc, "full_key", None) or getattr(exc, "key", None)
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "MissingMandatoryValue":
        return f"missing required config key {key!r}: set it with {key}=<value>"
    return f"config key {key!r}: {first_line}" if key else f"bad config: {first_line}"
