"""The fast sampler's memory of its last call: each row's key/value cache, so the next turn prefills only what is new.

An episode's next prompt extends the last one: attempt 2's prompt is the problem, attempt 1 (as sampled, through its
end-of-turn token) and the instruction. After each ``generate`` call the fast backend keeps, per row, the keys and
values it computed (prompt and fed tokens) under the row's prompt + completion token ids; the next call looks every
prompt up by its prefixes, and when *every* row of a batch has one, the batch's prefill starts after the shortest
reusable part (the layout stays today's: left-padded rows, one width; only the first columns come from the store).

What makes reuse safe: entries are keyed by exact token ids (a prompt that re-tokenizes differently simply misses),
only the previous call's entries are kept, and they are dropped as soon as any weight changes (every parameter's
in-place version counter is checked: an optimizer step or a checkpoint load bumps it), so a cache never outlives
the weights that computed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Entry:
    """One row's cache after a call: ``keys``/``values`` per layer, [kv_heads, covered, D], for the first
    ``covered`` tokens of ``tokens`` (the prompt and the completion; the last sampled token was never fed)."""

    tokens: tuple[int, ...]
    covered: int
    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]


def weight_versions(model: Any) -> tuple[tuple[int, int], ...]:
    """Every parameter's storage and in-place version counter: any change to any weight changes this tuple (an
    in-place update bumps the counter; a parameter replaced by another tensor has another storage)."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


MAX_BYTES = 2 << 30  # the most the stored keys and values of one call take (2 GiB; with the previous call's, 4 at most)


class PrefixStore:
    """The rows of the last ``generate`` call, by their token ids; empty once the weights have changed.

    Bounded: a call's rows are kept while their keys and values fit in ``max_bytes``; the rest are not (their next
    turn prefills in full: the same tokens, a little more compute). Without the bound a call over every episode of
    a large collection (Pair-SFT's ``updates x P x k`` up front) kept them all: memory grew with the budget."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._by_length: dict[int, dict[tuple[int, ...], Entry]] = {}
        self._versions: tuple[tuple[int, int], ...] | None = None
        self._next: dict[int, dict[tuple[int, ...], Entry]] = {}
        self.max_bytes = max_bytes
        self._next_bytes = 0

    def begin(self, model: Any) -> None:
        """A call starts: forget the entries if the weights changed since they were computed."""
        versions = weight_versions(model)
        if self._versions != versions:
            self._by_length = {}
        self._versions = versions
        self._next, self._next_bytes = {}, 0

    def add(self, entry: Entry) -> None:
        size = sum(t.numel() * t.element_size() for t in (*entry.keys, *entry.values))
        if self._next_bytes + size > self.max_bytes:
            return  # past the bound: this row's next turn prefills in full
        self._next_bytes += size
        self._next.setdefault(len(entry.tokens), {})[entry.tokens] = entry

    def end(self) -> None:
        """The call is over: its rows replace the previous call's."""
        self._by_length, self._next = self._next, {}

    def clear(self) -> None:
        self._by_length, self._next, self._versions, self._next_bytes = {}, {}, None, 0

    def find(self, prompt: Sequence[int]) -> Entry | None:
        """The entry with the longest token ids that start ``prompt`` (and are shorter than it), or None."""
        for length in sorted(self._by_length, reverse=True):
            if length < len(prompt):
                entry = self._by_length[length].get(tuple(prompt[:length]))
                if entry is not None:
                    return entry
        return None

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_length.values())


def reusable(store: PrefixStore, prompts: Sequence[Sequence[int]]) -> list[Entry] | None:
    """One entry per prompt when every prompt has one (a batch reuses only if all its rows do), else None."""
    if not len(store):
        return None
    entries = []
    for prompt in prompts:
        entry = store.find(prompt)
        if entry is None:
            return None
        entries.append(entry)
    return entries


def cached_columns(entries: Sequence[Entry], prompts: Sequence[Sequence[int]]) -> int:
    """How many of the batch's leading columns come from the store: the batch is ``width`` columns of left-padded
    rows; its last ``width - columns`` must be computed, which must cover every row's tokens past its entry."""
    width = max(len(p) for p in prompts)
    new = max(len(p) - e.covered for e, p in zip(entries, prompts, strict=True))
    return width - new


def past_for(
    entries: Sequence[Entry], prompts: Sequence[Sequence[int]], columns: int, like: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per layer, the batch's keys and values for its first ``columns`` columns, [b, kv_heads, columns, D]: each row's
    stored cache right-aligned to where its tokens sit in the left-padded layout (padding columns zero: masked)."""
    width = max(len(p) for p in prompts)
    layers = []
    for layer in range(len(entries[0].keys)):
        kv_heads, _, dim = entries[0].keys[layer].shape
        keys = like.new_zeros((len(prompts), kv_heads, columns, dim))
        values = like.new_zeros((len(prompts), kv_heads, columns, dim))
        for row, (entry, prompt) in enumerate(zip(entries, prompts, strict=True)):
            start = width - len(prompt)  # the row's first real column
            if start < columns:
                keys[row, :, start:columns] = entry.keys[layer][:, : columns - start]
                values[row, :, start:columns] = entry.values[layer][:, : columns - start]
        layers.append((keys, values))
    return layers
