"""``print_config=true``: a command's merged config, each value with the layer it came from, and nothing run.

The layers and their precedence are :func:`score_env.config.load.config_layers`'s (defaults, preset, agent file,
command line, Python values: a later one wins).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import OmegaConf
from pydantic import BaseModel

from score_env.config.errors import ConfigError
from score_env.config.load import config_layers, merge_layers

FLAG = "print_config"


def wants_print_config(overrides: Sequence[str]) -> tuple[bool, list[str]]:
    """Whether the command line asks for ``print_config=true``, and the overrides without it."""
    rest, asked = [], False
    for override in overrides:
        key, _, value = override.partition("=")
        if key != FLAG:
            rest.append(override)
            continue
        if value.strip().lower() not in ("true", "false"):
            raise ConfigError(f"print_config={value!r}: allowed values are true and false")
        asked = value.strip().lower() == "true"
    return asked, rest


def explain_config(model: type[BaseModel], preset: str, overrides: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """``(key, value, origin)`` for every leaf of the validated config, in the model's order."""
    layers = config_layers(model, preset, overrides)
    config = merge_layers(model, layers)
    given = [(origin, set(_leaves(OmegaConf.to_container(layer, resolve=True)))) for origin, layer in layers]
    rows = []
    for key, value in _leaves(config.model_dump(mode="json", by_alias=True)).items():
        origin = next((o for o, keys in reversed(given) if _set_by(key, keys)), "default")
        rows.append((key, json.dumps(value, ensure_ascii=False), origin))
    return rows


def format_config(rows: Sequence[tuple[str, str, str]]) -> str:
    """One line per key, its value as JSON, then its origin; the first line says which layer wins."""
    width = max((len(f"{k}: {v}") for k, v, _ in rows), default=0)
    head = "# the merged config; a later layer wins: default < preset < agent file < command line < Python values"
    return head + "\n" + "\n".join(f"{f'{k}: {v}':<{width}}  # {origin}" for k, v, origin in rows)


def _set_by(key: str, keys: set[str]) -> bool:
    """A layer set ``key`` when it holds it or a block above it (a list or mapping given whole)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in keys for i in range(1, len(parts) + 1))


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of every leaf; a list or an empty mapping is one leaf."""
    if isinstance(data, Mapping) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out |= _leaves(v, f"{prefix}{k}.")
        return out
    return {prefix.rstrip("."): data} if prefix else {}
