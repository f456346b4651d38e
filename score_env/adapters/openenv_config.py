"""The typed configuration of ``score-env serve``. Importing it needs no OpenEnv package,
so a bad key is reported before the server's dependencies are even looked for."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from score_env.config.base import Imports, Strict
from score_env.config.commands import EnvArg


class ServeConfig(Strict):
    """``score-env serve``: one score env as an OpenEnv server (HTTP and WebSocket) that any OpenEnv client drives."""

    imports: Imports = []  # noqa: RUF012  (pydantic copies defaults)
    """Modules (or .py files) to import first: the ones that register your own tasks (``import=my_tasks``)."""
    env: str
    """Env id (``score/MATH-v0``) or short name (``math``)."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task (e.g. ``env_kwargs.digits=3``)."""
    split: str = "train"
    """Problem split the episodes draw from."""
    host: str = "127.0.0.1"
    """Address to listen on (``0.0.0.0`` to accept other machines: the server has no authentication)."""
    port: int = Field(8000, ge=1, le=65535)
    """TCP port."""
    max_attempts: PositiveInt = 2
    """Attempts per episode (2 in the paper)."""
    stop: Literal["fixed", "model_decides"] = "fixed"
    """``fixed``: every attempt is made; ``model_decides``: verify-then-revise (a self-verdict after each attempt but
    the last, rewarded for being right; the episode ends when it says "correct")."""
    max_sessions: PositiveInt = 64
    """Concurrent WebSocket sessions (one episode each at a time); a client past this gets a capacity error."""
