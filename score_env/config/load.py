"""Load a config: YAML preset -> agent file -> ``key=value`` overrides (OmegaConf), then validate (pydantic).

Every mistake becomes one :class:`ConfigError` naming the key, the bad value and the allowed values, raised before
anything heavy (a model, a dataset) is loaded.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, TypeAdapter, ValidationError

from score_env.config.agents import AgentConfig, agent_kinds, agent_spec, registered_agents
from score_env.config.errors import ConfigError, describe_validation_error
from score_env.config.imports import import_modules
from score_env.layout import TrainLayout

M = TypeVar("M", bound=BaseModel)


def configs_dir() -> Path:
    """The ``configs/`` folder shipped with the package."""
    return Path(str(resources.files("score_env.configs")))


def local_configs_dir() -> Path:
    """The project's own ``configs/`` folder (in the working directory): its ``agents/`` is searched before the
    package's, so a user's agent variants (``configs/agents/my_score.yaml``) are used by name like the shipped ones."""
    return Path.cwd() / "configs"


def agent_sources() -> dict[str, str]:
    """What ``agent=<name>`` takes, with where each comes from: the project's ``configs/agents/`` first, then the
    package's agent files, then every registered agent kind (a kind without a file is its config's defaults)."""
    found = {spec.kind: f"registered kind ({spec.config.__module__})" for spec in registered_agents()}
    for folder, origin in ((configs_dir() / "agents", "package"), (local_configs_dir() / "agents", "project")):
        found |= {p.stem: f"{origin}: {p}" for p in sorted(folder.glob("*.yaml"))}
    return dict(sorted(found.items()))


def agent_names() -> list[str]:
    return list(agent_sources())


def parse_overrides(overrides: Sequence[str]) -> list[str]:
    """Check that every override is ``key=value`` with a non-empty key."""
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key or key != key.strip():
            raise ConfigError(
                f"cannot read {override!r}: overrides are key=value (for example limit=20 or sampling.top_p=0.9)"
            )
        if not value.strip():
            raise ConfigError(f"{key}= has no value: give one ({key}=<value>), or {key}=null for none")
    return list(overrides)


def load_config(
    model: type[M], preset: str, overrides: Sequence[str] = (), values: Mapping[str, Any] | None = None
) -> M:
    """Merge the command's layers (:func:`config_layers`: defaults, preset, agent file, ``key=value`` overrides,
    Python ``values``; each later one wins) and validate once.

    ``values`` is what the Python API passes (``evaluate(limit=20, agent="score")``): the same keys as the command
    line, with Python values.
    """
    return merge_layers(model, config_layers(model, preset, overrides, values))


def merge_layers(model: type[M], layers: Sequence[tuple[str, DictConfig]]) -> M:
    """The layers merged in order (a later one wins), validated once."""
    try:
        merged = OmegaConf.merge(*(layer for _, layer in layers))
        data = OmegaConf.to_container(merged, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(_describe_omegaconf_error(exc)) from None
    return validate(model, data)


def config_layers(
    model: type[BaseModel], preset: str, overrides: Sequence[str] = (), values: Mapping[str, Any] | None = None
) -> list[tuple[str, DictConfig]]:
    """What a command's config is made of, in precedence order (a later layer wins), each with its origin:

    1. the command's defaults (the config model's own);
    2. the preset: ``config=<name or path>``, else the run's own config under ``resume=<dir>``, else the command's
       shipped preset (``configs/<command>.yaml``) where there is one;
    3. the agent file: ``agent=<name or path>`` from the command line, else the preset's ``agent:`` (a name, or a
       block of keys); a command-line ``agent=`` replaces the preset's whole agent block, with a warning
       (:class:`ConfigPrecedenceWarning`) naming the keys it drops;
    4. ``key=value`` overrides from the command line (``agent.lr=1e-4`` changes one key of the agent's);
    5. the Python API's keyword values.
    """
    pairs = [o.partition("=") for o in parse_overrides(overrides)]
    chosen: dict[str, Any] = {k: v for k, _, v in pairs} | dict(values or {})
    if "config" in chosen:
        preset_path: Path | None = find_preset(chosen["config"])
    elif "resume" in model.model_fields and chosen.get("resume"):
        preset_path = _run_config_path(str(chosen["resume"]))  # resume=<dir> alone: the run's own config
    else:
        preset_path = configs_dir() / f"{preset}.yaml"
        preset_path = preset_path if preset_path.is_file() else None
    preset_config = _load_yaml(preset_path) if preset_path else OmegaConf.create({})
    preset_name = f"preset {preset_path}" if preset_path else "preset (none)"
    # The model's own defaults first, so that a partial override of a nested default (``sampling.max_new_tokens=6``
    # in train, whose sampling default is temperature 1.0) keeps the rest of that default.
    layers = [("default", OmegaConf.create(_defaults(model))), (preset_name, preset_config)]
    import_modules(_imports(chosen, preset_config))  # before any name is looked up: they may register agents
    agent = chosen.get("agent", preset_config.get("agent", _default_agent(model)))
    if isinstance(agent, str):
        agent_file = _load_agent(agent)
        if "agent" in chosen and isinstance(preset_config.get("agent"), DictConfig):
            given = {k.removeprefix("agent.") for k in chosen if k.startswith("agent.")}
            _warn_replaced_block(agent, preset_name, preset_config.agent, agent_file, given)
        # The agent file stands in for the preset's agent (a name, or a block that agent= replaces whole).
        layers[1] = (preset_name, OmegaConf.masked_copy(preset_config, [k for k in preset_config if k != "agent"]))
        layers.append((f"agent file {agent_origin(agent)}", OmegaConf.create({"agent": agent_file})))
    rest = [f"{k}={v}" for k, _, v in pairs if k not in ("config", "agent")]
    try:
        layers.append(("command line", OmegaConf.from_dotlist(rest)))
    except OmegaConfBaseException as exc:
        raise ConfigError(_describe_omegaconf_error(exc)) from None
    python = {k: v for k, v in (values or {}).items() if k not in ("config", "agent") or not isinstance(v, str)}
    layers.append(("Python values", OmegaConf.create(python)))
    return layers


class ConfigPrecedenceWarning(UserWarning):
    """A later config layer replaced a whole block that an earlier one set (the command prints it as one line)."""


def _warn_replaced_block(
    agent: str, preset_name: str, block: DictConfig, agent_file: DictConfig, given: set[str]
) -> None:
    """Warn about the preset's agent keys whose values ``agent=`` drops: set in the preset, given again neither in
    the agent file nor on the command line, and not the agent kind's default either."""
    kind = agent_file.get("kind")
    fields = agent_spec(kind).config.model_fields if kind in agent_kinds() else {}
    dropped = {
        k: v
        for k, v in OmegaConf.to_container(block).items()  # type: ignore[union-attr]
        if k not in given and agent_file.get(k, fields[k].default if k in fields else object()) != v
    }
    if dropped:
        keys = ", ".join(f"{k}={v}" for k, v in dropped.items())
        warnings.warn(
            f"agent={agent} replaces the agent block of the {preset_name}, dropping {keys}; to keep a value, give it "
            "again as agent.<key>=<value>, or leave out agent= to use the preset's agent",
            ConfigPrecedenceWarning,
            stacklevel=4,
        )


def agent_origin(name: str) -> str:
    """Where ``agent=<name>`` is read from (a path, or a registered kind's defaults)."""
    if name.endswith((".yaml", ".yml")):
        return str(Path(name).expanduser())
    origin = agent_sources().get(name, "")
    return origin.split(": ", 1)[1] if origin.startswith(("project: ", "package: ")) else f"{name} (kind defaults)"


def preset_names() -> list[str]:
    """The presets shipped in ``configs/`` (for ``config=<name>``)."""
    return sorted(p.stem for p in configs_dir().glob("*.yaml"))


def find_preset(name: str) -> Path:
    """``config=`` by path (a YAML file: a project's own preset) or by the name of a shipped preset
    (``benchmark_quick``), from anywhere. A name never finds a project file: a project whose ``configs/`` holds a
    file named like a shipped preset still gets the shipped one by name (``.ci/install_check.sh``)."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    shipped = configs_dir() / f"{name.removesuffix('.yaml')}.yaml"
    if shipped.is_file():
        return shipped
    close = difflib.get_close_matches(name, preset_names(), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(
        f"config={name!r} is neither a YAML file nor a shipped preset. Presets: {', '.join(preset_names())}.{hint}"
    )


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The model's defaults as plain data (fields without one are left to the preset and the overrides)."""
    return {
        field.alias or name: TypeAdapter(field.annotation).dump_python(
            field.get_default(call_default_factory=True), mode="json"
        )
        for name, field in model.model_fields.items()
        if not field.is_required() and name != "agent"
    }


def _run_config_path(run_dir: str) -> Path:
    path = TrainLayout(Path(run_dir).expanduser()).config
    if not path.is_file():
        raise ConfigError(f"resume={run_dir!r}: no config.yaml there; resume takes a training run directory")
    return path


def _default_agent(model: type[BaseModel]) -> str | None:
    """The agent file a command starts from when none is named: its default agent's kind (prompting, score)."""
    field = model.model_fields.get("agent")
    if field is None:
        return None
    default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    return getattr(default, "kind", None)


def _imports(chosen: Mapping[str, Any], preset: DictConfig) -> list[str]:
    """The modules ``import=`` names (one, a list, or ``[a,b]`` on the command line), from the command or preset."""
    for key in ("import", "imports"):
        if key in chosen:
            value = chosen[key]
            if isinstance(value, str) and value.startswith("["):
                value = OmegaConf.to_container(OmegaConf.from_dotlist([f"x={value}"]))["x"]  # type: ignore[index]
            return [value] if isinstance(value, str) else [str(v) for v in value or []]
    value = preset.get("import", preset.get("imports", []))
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(model, exc, data)) from None


def load_agent_config(name: str) -> AgentConfig:
    """The validated config of ``agent=<name>``: ``configs/agents/<name>.yaml``, or a registered kind's defaults."""
    data = OmegaConf.to_container(_load_agent(name), resolve=True)
    try:
        return TypeAdapter(AgentConfig).validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"agent {name!r}: {exc.errors()[0]['msg']}") from None


def _load_agent(name: str) -> DictConfig:
    """An agent file by path (``agent=my_score.yaml``), or by name: the project's ``configs/agents/<name>.yaml``,
    the package's, or a registered kind's defaults."""
    if name.endswith((".yaml", ".yml")):
        return _load_yaml(Path(name).expanduser())
    names = agent_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"agent={name!r} is not an agent. Allowed: {', '.join(names)}.{hint}")
    for folder in (local_configs_dir() / "agents", configs_dir() / "agents"):
        if (folder / f"{name}.yaml").is_file():
            return _load_yaml(folder / f"{name}.yaml")
    return OmegaConf.create({"kind": name})


def _load_yaml(path: Path) -> DictConfig:
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        loaded = OmegaConf.load(path)
    except (OmegaConfBaseException, yaml.YAMLError, ValueError) as exc:
        first = " ".join(str(exc).split())
        raise ConfigError(f"cannot read config file {str(path)!r}: {first}") from None
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, got a list")
    return loaded


def _describe_omegaconf_error(exc: OmegaConfBaseException) -> str:
    key = getattr(exc, "full_key", None) or getattr(exc, "key", None)
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "MissingMandatoryValue":
        return f"missing required config key {key!r}: set it with {key}=<value>"
    return f"config key {key!r}: {first_line}" if key else f"bad config: {first_line}"
