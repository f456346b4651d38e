"""Files shipped inside the package: the embedded default base model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EMBEDDED = "embedded"


def embedded_model_path() -> Path:
    """score-env's own base model for ``score/Arithmetic-v0`` (made by ``score-env pretrain``; see README)."""
    return Path(str(resources.files("score_env") / "assets" / "arithmetic-base"))


def resolve_model(model: str) -> str:
    """``embedded`` -> the shipped model's directory; anything else unchanged."""
    return str(embedded_model_path()) if model == EMBEDDED else model
