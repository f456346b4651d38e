"""Free-text Gymnasium spaces.

Gymnasium's ``Text`` space only admits a fixed character set and rejects LaTeX (``\\frac``, ``$``, ``^``) and any
non-ASCII text, so a model's answer could fall outside the action space. These spaces accept any Unicode string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Space

from score_env.records import ROLES

# What `sample()` draws from: printable ASCII, LaTeX punctuation and a few non-ASCII letters, so random actions
# exercise graders with the characters that broke `gymnasium.spaces.Text`.
_SAMPLE_ALPHABET = tuple([chr(c) for c in range(32, 127)] + list("\n\t\\{}$^_πθ∞≤≥√·é中"))


class FreeText(Space[str]):
    """Any Python ``str`` of at most ``max_length`` characters."""

    def __init__(self, max_length: int = 100_000, seed: int | np.random.Generator | None = None):
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.max_length = max_length
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is not None or probability is not None:
            raise NotImplementedError("FreeText.sample does not support masks")
        length = int(self.np_random.integers(0, min(self.max_length, 64) + 1))
        chars = self.np_random.choice(len(_SAMPLE_ALPHABET), size=length)
        return "".join(_SAMPLE_ALPHABET[i] for i in chars)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"FreeText(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FreeText) and other.max_length == self.max_length


class ChatSpace(Space[tuple[dict[str, str], ...]]):
    """A conversation: a tuple of ``{"role": ..., "content": ...}`` dicts, as chat templates take them."""

    def __init__(self, max_messages: int = 64, max_length: int = 100_000, seed: int | None = None):
        self.max_messages = max_messages
        self.content = FreeText(max_length)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def seed(self, seed: int | None = None) -> list[int]:
        seeds = super().seed(seed)
        self.content.seed(int(self.np_random.integers(2**31)))
        return seeds

    def sample(self, mask: Any = None, probability: Any = None) -> tuple[dict[str, str], ...]:
        if mask is not None or probability is not None:
            raise NotImplementedError("ChatSpace.sample does not support masks")
        n = int(self.np_random.integers(1, min(self.max_messages, 4) + 1))
        roles: Sequence[str] = ["user" if i % 2 == 0 else "assistant" for i in range(n)]
        return tuple({"role": role, "content": self.content.sample()} for role in roles)

    def contains(self, x: Any) -> bool:
        return (
            isinstance(x, tuple)
            and 0 < len(x) <= self.max_messages
            and all(
                isinstance(m, dict)
                and m.keys() == {"role", "content"}
                and m["role"] in ROLES
                and self.content.contains(m["content"])
                for m in x
            )
        )

    def __repr__(self) -> str:
        return f"ChatSpace(max_messages={self.max_messages}, max_length={self.content.max_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ChatSpace) and other.max_messages == self.max_messages and other.content == self.content
        )
