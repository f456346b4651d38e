"""From records to tensors: (conversation, completion tokens) pairs as right-padded training batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.losses import gather_token_logprobs
from score_env.policies.chat import render_prompt
from score_env.records import Conversation


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


def build_batch(
    tokenizer: Any, items: Sequence[tuple[Conversation, Sequence[int]]], device: torch.device | str = "cpu"
) -> TokenBatch:
    """Tokenise each prompt with the chat template and append the completion's token ids *as generated*.

    The loss mask covers only the completion (the model's own tokens), never the prompt, an earlier attempt or the
    correction instruction.
    """
    rows, starts = [], []
    for conversation, completion in items:
        prompt = tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)["input_ids"]
        rows.append(list(prompt) + list(completion))
        starts.append(len(prompt))
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    loss_mask = torch.zeros((len(rows), width - 1), dtype=torch.float32)
    for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
        input_ids[i, : len(row)] = torch.tensor(row)
        attention[i, : len(row)] = 1
        loss_mask[i, start - 1 : len(row) - 1] = 1.0  # predictions of tokens start .. len(row) - 1
    return TokenBatch(input_ids.to(device), attention.to(device), input_ids[:, 1:].to(device), loss_mask.to(device))


def token_logprobs(model: Any, batch: TokenBatch) -> torch.Tensor:
    """[B, T-1] log-probabilities of every target token under ``model`` (with gradient if enabled)."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # [B, T, V]
    return gather_token_logprobs(logits[:, :-1], batch.targets)


def completion_ids(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a target response for SFT, ending with EOS (so the model learns to stop)."""
    return [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
