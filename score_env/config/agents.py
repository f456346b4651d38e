"""The agent registry, the twin of the task registry: each agent kind registers its config model and how to build it.

An agent lives in one module that holds its config (a :class:`~score_env.config.base.Strict` model with a literal
``kind``) and its implementation, and calls :func:`register_agent` (``score_env/agents/score.py``). The built-in agents
are the package ``score_env.agents``; a user's agents register the same way from a module named with ``import=`` or
from an installed package's ``score_env.agents`` entry point. :data:`AgentConfig` validates an agent config by its
``kind`` through the registry, and :func:`build_agent` is a lookup: no code outside an agent's module names it.

Each config owns its **budget rule** (``with_budget``): how a budget of sampled episodes and gradient updates
maps onto its own keys, so a benchmark can give every method the same budget without knowing any method's keys; and
says whether it ``trains`` (prompting does not: it is the base model, the benchmark's reference row).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Protocol, Self

from pydantic import PlainValidator, SerializeAsAny
from pydantic_core import PydanticCustomError

from score_env.config.base import Strict

Feedback = Literal["intrinsic", "oracle"]
Stop = Literal["fixed", "model_decides", "on_correct"]


@dataclass(frozen=True)
class EpisodeSettings:
    """How a method's episodes run: attempts, what the instruction says (intrinsic or oracle), who ends them."""

    max_attempts: int = 2
    feedback: Feedback = "intrinsic"
    stop: Stop = "fixed"

    @property
    def oracle(self) -> bool:
        """Oracle feedback tells the model whether it was right: reported apart from the intrinsic methods."""
        return self.feedback == "oracle"


@dataclass(frozen=True)
class Budget:
    """What every trained method may spend: ``updates`` gradient updates and ``updates x problems x samples``
    sampled episodes (``problems`` problems per update, ``samples`` episodes each)."""

    updates: int
    problems: int  # P, per update
    samples: int  # k, per problem

    @property
    def episodes(self) -> int:
        return self.updates * self.problems * self.samples


class AgentSettings(Protocol):
    """What every agent config has besides its own keys (see the module doc)."""

    kind: str
    trains: ClassVar[bool]

    def with_budget(self, budget: Budget) -> Self: ...

    def episode(self) -> EpisodeSettings: ...


BuildAgent = Callable[[Any, Any], Any]  # (config, base policy) -> a training.agent.Agent


@dataclass(frozen=True)
class AgentSpec:
    """A registered agent kind."""

    kind: str
    config: type[Strict]
    build: BuildAgent = field(repr=False)
    description: str = ""


_AGENTS: dict[str, AgentSpec] = {}
_LOADED: list[bool] = []
_LOCK = threading.RLock()
BUILTIN_AGENTS = "score_env.agents"  # a package of agent modules, loaded like a user's
ENTRY_POINTS = "score_env.agents"  # the entry-point group an installed package registers its agents under


def register_agent(kind: str, config: type[Strict], build: BuildAgent, *, description: str = "") -> AgentSpec:
    """Register an agent kind: its config model (whose ``kind`` field defaults to ``kind``) and ``build(config,
    base_policy)``, which returns the agent (a :class:`~score_env.training.agent.Agent`)."""
    if config.model_fields.get("kind") is None or config.model_fields["kind"].default != kind:
        raise ValueError(f"{config.__name__}.kind must default to {kind!r}")
    for attribute in ("trains", "with_budget", "episode"):
        if not hasattr(config, attribute):
            raise ValueError(f"{config.__name__} has no {attribute!r} (see score_env.config.agents.AgentSettings)")
    with _LOCK:
        known = _AGENTS.get(kind)
        if known is not None and known.config is not config:
            raise ValueError(f"agent kind {kind!r} is already registered by {known.config.__module__}")
        _AGENTS[kind] = spec = AgentSpec(kind, config, build, description or (config.__doc__ or "").split("\n")[0])
    return spec


def registered_agents() -> list[AgentSpec]:
    """Every registered agent kind (the built-in ones and the installed packages' loaded first), sorted."""
    _load()
    return sorted(_AGENTS.values(), key=lambda s: s.kind)


def agent_kinds() -> list[str]:
    return [spec.kind for spec in registered_agents()]


def agent_spec(kind: str) -> AgentSpec:
    """The registered agent ``kind`` (a ``PydanticCustomError`` that names the allowed kinds, when there is none)."""
    _load()
    if kind not in _AGENTS:
        context = {"kind": kind, "allowed": agent_kinds()}
        raise PydanticCustomError("unknown_agent_kind", "{kind!r} is not an agent kind", context)
    return _AGENTS[kind]


def build_agent(config: AgentSettings, base_policy: Any) -> Any:
    """The agent for ``config``, starting from ``base_policy`` (trained agents train its model in place)."""
    return agent_spec(config.kind).build(config, base_policy)


def _load() -> None:
    """Import the built-in agents and every installed package's agents, once. The built-in package is named here as
    data, as an entry point would name it: this module sits below the agents (they import it to register)."""
    with _LOCK:
        if _LOADED:
            return
        _LOADED.append(True)
        importlib.import_module(BUILTIN_AGENTS)
        for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
            entry.load()


def _validate(data: Any, trained: bool = False) -> Strict:
    if isinstance(data, Strict) and hasattr(data, "kind"):
        config = data
    else:
        kind = data.get("kind") if isinstance(data, dict) else None
        if not isinstance(kind, str):
            raise ValueError(f"an agent config needs a kind (one of {', '.join(s.kind for s in registered_agents())})")
        config = agent_spec(kind).config.model_validate(data)
    if trained and not config.trains:
        allowed = ", ".join(s.kind for s in registered_agents() if s.config.trains)
        raise ValueError(f"agent kind {config.kind!r} trains nothing: this command needs one that trains: {allowed}")
    return config


AgentConfig = Annotated[SerializeAsAny[Strict], PlainValidator(_validate)]
"""Any registered agent's config, validated by its ``kind``."""
TrainedAgentConfig = Annotated[SerializeAsAny[Strict], PlainValidator(lambda data: _validate(data, trained=True))]
"""A config of an agent that trains."""


def agent_config(kind: str, **values: Any) -> Strict:
    """A validated config of ``kind`` (its defaults, with ``values``)."""
    return _validate({"kind": kind, **values})
