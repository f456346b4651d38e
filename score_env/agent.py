"""The seam between the CLI and every correction method: an :class:`Agent`."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from score_env.policies import Policy


@runtime_checkable
class Agent(Protocol):
    """A correction method. Prompting answers with the base model; trained agents change its weights first.

    ``policy`` is what the rollout loop and ``score-env eval`` play the env with.
    """

    name: str

    @property
    def policy(self) -> Policy: ...
