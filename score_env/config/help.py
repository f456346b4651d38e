"""``score-env <command> --help``: every key of a command's config with its type, default and docstring, and the
metrics the command reports (from the metric catalogue)."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from score_env.metric_catalogue import CATALOGUE, SETTINGS


def describe_keys(model: type[BaseModel], prefix: str = "", defaults: BaseModel | None = None) -> list[str]:
    """One line per key (nested settings as dotted keys): ``key: type = default`` and its docstring below.
    ``defaults`` is the instance a nested setting defaults to (its parent's default, not the class's)."""
    lines = []
    for name, field in model.model_fields.items():
        required = field.default is PydanticUndefined and field.default_factory is None
        value = None if required else field.get_default(call_default_factory=True)
        if defaults is not None:
            value = getattr(defaults, name)
        nested = _nested_model(field.annotation)
        if nested is not None and name != "agent":
            lines += describe_keys(nested, f"{prefix}{name}.", value)
            continue
        kind = " ".join([_type_name(field.annotation), *_bounds(field.metadata)])
        if name == "agent":
            kind = "the name of an agent file (score-env agents)"
        elif name == "env_kwargs":
            kind = "the task's arguments (score-env envs lists each env's)"
        key = field.alias or name
        lines.append(f"  {prefix}{key}: {kind} {'required' if required else '= ' + _show(value)}")
        doc = " ".join((field.description or "").split())
        if doc:
            lines.append(f"      {doc}")
    return lines


def describe_metrics() -> list[str]:
    """One line per metric: ``label (key, unit): definition``, and the settings that have it when not every run."""
    lines = []
    for m in CATALOGUE.values():
        where = "" if m.settings == "every" else f" [{SETTINGS[m.settings]}]"
        lines.append(f"  {m.label} ({m.key}, {m.unit}): {m.definition}{where}")
    return lines


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _show(value: Any) -> str:
    if isinstance(value, BaseModel):
        return getattr(value, "kind", type(value).__name__)
    return repr(value)


def _type_name(annotation: Any) -> str:
    """A readable type: ``int > 0 | None``, ``'auto' | 'fast'``, ``list[str]``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return " ".join([_type_name(args[0]), *_bounds(args[1:])])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))


def _bounds(metadata: Any) -> list[str]:
    return [f"{op} {getattr(m, name)}" for m in metadata for name, op in _BOUNDS if hasattr(m, name)]
