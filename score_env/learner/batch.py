"""From records to tensors: (conversation, completion tokens) pairs as right-padded training batches."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.losses import gather_token_logprobs
from score_env.policies.chat import render_prompt
from score_env.profile import phase
from score_env.records import Attempt, Conversation


@dataclass(frozen=True)
class TokenBatch:
    """Sequences of prompt + completion. Positions are *predictions*: position j predicts token j + 1."""

    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    targets: torch.Tensor  # [B, T-1] input_ids shifted left
    loss_mask: torch.Tensor  # [B, T-1] 1 where the target is one of the completion's own tokens

    @property
    def size(self) -> int:
        return self.input_ids.shape[0]


Encoded = tuple[list[int], int]  # (prompt + completion token ids, where the completion starts)


def encode(tokenizer: Any, items: Sequence[tuple[Conversation, Sequence[int]]]) -> list[Encoded]:
    """Tokenise each prompt with the chat template and append the completion's token ids *as generated*."""
    encoded = []
    for conversation, completion in items:
        prompt = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)["input_ids"]
        encoded.append(([*prompt, *completion], len(prompt)))
    return encoded


def encode_attempt(tokenizer: Any, attempt: Attempt) -> Encoded:
    """An attempt's training row: the prompt ids the policy generated from (tokenised here only when the policy
    could not say) followed by the attempt's own token ids, exactly as sampled."""
    if attempt.prompt_ids:
        return [*attempt.prompt_ids, *attempt.token_ids], len(attempt.prompt_ids)
    return encode(tokenizer, [(attempt.prompt, attempt.token_ids)])[0]


def build_batch(
    tokenizer: Any, items: Sequence[tuple[Conversation, Sequence[int]]], device: torch.device | str = "cpu"
) -> TokenBatch:
    """Right-padded batch of prompts + completions. The loss mask covers only the completion (the model's own
    tokens), never the prompt, an earlier attempt or the correction instruction."""
    return pad_batch(tokenizer, encode(tokenizer, items), device)


def pad_batch(tokenizer: Any, encoded: Sequence[Encoded], device: torch.device | str = "cpu") -> TokenBatch:
    """Right-padded batch of rows whose loss covers everything from ``start`` on (one completion at the end)."""
    return pad_rows(tokenizer, [(ids, ((start, len(ids)),)) for ids, start in encoded], device)


Row = tuple[list[int], tuple[tuple[int, int], ...]]  # token ids, and the [start, end) spans the loss covers


def pad_rows(tokenizer: Any, rows: Sequence[Row], device: torch.device | str = "cpu") -> TokenBatch:
    """Right-padded batch of rows, each with any number of loss spans (a conversation with several completions)."""
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    loss_mask = torch.zeros((len(rows), width - 1), dtype=torch.float32)
    for i, (ids, spans) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention[i, : len(ids)] = 1
        for start, end in spans:
            loss_mask[i, start - 1 : end - 1] = 1.0  # predictions of tokens start .. end - 1
    return TokenBatch(input_ids.to(device), attention.to(device), input_ids[:, 1:].to(device), loss_mask.to(device))


def length_buckets(lengths: Sequence[int], max_tokens: int, max_stretch: float = 1.25) -> list[list[int]]:
    """Group row indices of similar length (padding-aware packing).

    Rows are sorted by length; a bucket closes when the next row would make it hold more than ``max_tokens`` padded
    tokens, or be more than ``max_stretch`` times longer than its shortest row (bounding the padding to ~20%).
    Every row lands in exactly one bucket, a row longer than ``max_tokens`` alone.
    """
    buckets: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        bucket = buckets[-1] if buckets else None
        fits = bucket is not None and (len(bucket) + 1) * lengths[index] <= max_tokens
        if fits and lengths[index] <= max_stretch * lengths[bucket[0]]:
            bucket.append(index)
        else:
            buckets.append([index])
    return buckets


def token_logprobs(model: Any, batch: TokenBatch) -> torch.Tensor:
    """[B, T-1] log-probabilities of the target tokens under ``model`` where ``batch.loss_mask`` is set, 0 elsewhere
    (with gradient if enabled).

    The LM head and the log-softmax run only at the positions some row's loss needs (the model's ``logits_to_keep``
    with their indices) instead of at every prompt and instruction token: at a real vocabulary the full [B, T, V]
    logits dominate the learner's time and memory (forward + backward on SCoRe-shaped rows, benchmarks/speed/
    logprobs.py: 3.2x faster at 32k tokens, 4.6x at 152k). Below ``KEEP_POSITIONS_FROM_VOCAB`` tokens it saves little
    (1.0-1.2x at the embedded model's 389), so small models keep the full logits, which keeps their runs bit-identical
    to earlier versions; so do models whose forward cannot keep positions (same values)."""
    with phase("learner"):
        return _token_logprobs(model, batch)


def _token_logprobs(model: Any, batch: TokenBatch) -> torch.Tensor:
    keep = batch.loss_mask.bool()
    if _keeps_positions(model):
        positions = keep.any(dim=0).nonzero().flatten()  # [K] prediction positions that some row's loss needs
        try:
            logits = model(
                input_ids=batch.input_ids, attention_mask=batch.attention_mask, logits_to_keep=positions
            ).logits
        except (TypeError, IndexError):  # a forward that takes logits_to_keep as an int only
            logits = None
        if logits is not None and logits.shape[:2] == (batch.size, len(positions)):  # [B, K, V]
            kept = gather_token_logprobs(logits, batch.targets[:, positions])
            out = torch.zeros(batch.targets.shape, dtype=kept.dtype, device=kept.device).index_copy(1, positions, kept)
            return torch.where(keep, out, 0.0)
        _NO_KEEP.add(type(model))
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # [B, T, V]
    return torch.where(keep, gather_token_logprobs(logits[:, :-1], batch.targets), 0.0)


KEEP_POSITIONS_FROM_VOCAB = 4096  # smaller vocabularies: full logits (little slower, bit-identical to earlier runs)
_NO_KEEP: set[type] = set()  # model classes whose logits_to_keep did not keep the positions asked for


def _keeps_positions(model: Any) -> bool:
    """Whether to keep positions: a vocabulary that makes it pay, and a forward (under a peft wrapper, the base
    model's) that takes ``logits_to_keep``."""
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    if type(model) in _NO_KEEP or (isinstance(vocab, int) and vocab < KEEP_POSITIONS_FROM_VOCAB):
        return False
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def completion_ids(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a target response for SFT, ending with EOS (so the model learns to stop)."""
    return [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
