"""Turning validation failures into messages a person can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


class ConfigError(ValueError):
    """A bad config or name. The CLI prints the message and exits with code 2."""


def describe_validation_error(model: type[BaseModel], exc: ValidationError) -> str:
    """One line per problem: the dotted key, the bad value, what is allowed (and the closest allowed name)."""
    lines = [_describe(model, error) for error in exc.errors()]
    return "\n".join(lines) if len(lines) == 1 else "invalid config:\n" + "\n".join(f"  - {x}" for x in lines)


def _describe(model: type[BaseModel], error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        return f"unknown config key {_key(loc)!r} (value {value!r}). {_allowed(loc[-1], allowed)}"
    key = _key(loc)
    if kind == "missing":
        return f"missing required config key {key!r}: set it with {key}=<value>"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in ctx["expected_tags"].split(",")]
        return f"{key}.kind={ctx['tag']!r} is not an agent kind. {_allowed(str(ctx['tag']), tags)}"
    if kind == "literal_error":
        allowed = [a.strip(" '") for a in ctx["expected"].replace(" or ", ",").split(",")]
        return f"config key {key!r} = {value!r} is not allowed. {_allowed(str(value), allowed)}"
    message = error["msg"].removeprefix("Value error, ")
    if not loc:  # a check across several keys
        return message
    return f"config key {key!r} = {value!r}: {message}"


def _key(loc: list[str]) -> str:
    # Drop discriminator tags pydantic puts in the location (agent.prompting.x -> agent.x).
    return ".".join(part for i, part in enumerate(loc) if not (i > 0 and loc[i - 1] == "agent" and part != "kind"))


def _allowed(value: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Allowed: {', '.join(allowed)}.{hint}"


def _model_at(model: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    """The model class that the location ``loc`` points into (following discriminator tags)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        field = current.model_fields.get(part)
        if field is None:  # a discriminator tag: pick the union member with that kind
            return _member_with_kind(current, part) if current else None
        current = _as_model(field.annotation)
    return current


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        models = [m for m in map(_as_model, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else _Union(models) if models else None  # type: ignore[return-value]
    return None


class _Union:
    """Several candidate models at one location (a discriminated union), resolved by the next tag."""

    def __init__(self, members: list[type[BaseModel]]):
        self.members = members
        self.model_fields: dict[str, Any] = {}


def _member_with_kind(union: Any, tag: str) -> type[BaseModel] | None:
    for member in getattr(union, "members", [union]):
        kind = member.model_fields.get("kind")
        if kind is not None and kind.default == tag:
            return member
    return None
