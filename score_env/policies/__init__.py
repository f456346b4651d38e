"""Policies: anything that samples completions for a batch of conversations.

The rollout loop, the agents and the learner talk to a :class:`Policy`; the backends live in this package behind
that one protocol: the fast sampler (``fast.py``, with attempt 2 reusing attempt 1's cache: ``prefix_cache.py``),
Hugging Face ``transformers.generate`` (``transformers_backend.py``) and vLLM (``vllm_backend.py``), chosen by
``factory.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from score_env.records import Completion, Conversation


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. ``temperature == 0`` means greedy decoding (the paper's evaluation setting).

    No defaults for the decoding settings: they come from the command's config (``SamplingConfig``), their one place.
    """

    temperature: float
    top_p: float
    max_new_tokens: int
    n: int = 1  # samples per conversation
    seed: int | None = None  # same seed + same inputs = same samples
    stop: tuple[str, ...] = ()  # stop after the token that completes any of these strings (it is kept)

    def __post_init__(self) -> None:
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.max_new_tokens < 1 or self.n < 1:
            raise ValueError(f"invalid sampling parameters: {self}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@runtime_checkable
class Policy(Protocol):
    """Generates completions for a batch of conversations."""

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        """Return, for each conversation, ``params.n`` completions (in order)."""
        ...


@runtime_checkable
class ModelPolicy(Policy, Protocol):
    """A policy over a local torch model that the learner can train in place (transformers and fast backends)."""

    model: Any
    tokenizer: Any
    batch_size: int

    @property
    def device(self) -> Any: ...


@runtime_checkable
class SeparateEngine(Protocol):
    """A policy that generates with an engine of its own (vLLM), not with the trained model: it must be handed the
    new weights after every update."""

    def sync_weights(self) -> None: ...
