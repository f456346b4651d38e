"""Turning validation failures into messages a person can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from score_env.config.agents import agent_kinds, agent_spec
from score_env.config.base import Strict


class ConfigError(ValueError):
    """A bad config or name. The CLI prints the message and exits with code 2."""


def describe_validation_error(model: type[BaseModel], exc: ValidationError, data: Any = None) -> str:
    """One line per problem: the dotted key, the bad value, what is allowed (and the closest allowed name). ``data``,
    what was validated, tells which agent kind's keys are allowed where an agent config is."""
    lines = [_describe(model, error, data) for error in exc.errors()]
    return "\n".join(lines) if len(lines) == 1 else "invalid config:\n" + "\n".join(f"  - {x}" for x in lines)


def _describe(model: type[BaseModel], error: Any, data: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    key = ".".join(loc)
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1], data)
        allowed = sorted(parent.model_fields) if parent else []
        return f"unknown config key {key!r} (value {value!r}). {_allowed(loc[-1], allowed)}"
    if kind == "missing":
        return f"missing required config key {key!r}: set it with {key}=<value>"
    if kind == "unknown_agent_kind":
        return f"{key}.kind={ctx['kind']!r} is not an agent kind. {_allowed(str(ctx['kind']), ctx['allowed'])}"
    if kind == "literal_error":
        allowed = [a.strip(" '") for a in ctx["expected"].replace(" or ", ",").split(",")]
        return f"config key {key!r} = {value!r} is not allowed. {_allowed(str(value), allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    if not loc:  # a check across several keys
        return message
    return f"config key {key!r} = {value!r}: {message}"


def _allowed(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Allowed: {', '.join(allowed)}.{hint}"


def _model_at(model: type[BaseModel], loc: list[str], data: Any) -> type[BaseModel] | None:
    """The model class that the location ``loc`` points into (an agent config: its kind's, read off ``data``)."""
    current: type[BaseModel] | None = model
    for part in loc:
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            return None
        data = data.get(part) if isinstance(data, dict) else None
        current = _as_model(field.annotation)
        if current is Strict and isinstance(data, dict):  # an agent config: the registered kind's model
            current = agent_spec(str(data.get("kind"))).config if data.get("kind") in agent_kinds() else None
    return current


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        models = [m for m in map(_as_model, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None
