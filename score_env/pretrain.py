"""``score-env pretrain``: train a small causal LM from scratch on a task's conversations (the embedded default).

Every assistant turn of every conversation is a training target given the conversation before it (so attempt 2 is
learned given attempt 1 and the instruction), all turns of a conversation in one row. Reproducible: the tokenizer,
the initial weights, the data order and the updates all follow from the seed; on CPU the same command gives the same
model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from score_env.learner.batch import Row, completion_ids, encode, length_buckets, pad_rows, token_logprobs
from score_env.learner.losses import sft_loss
from score_env.records import Message
from score_env.tiny_model import build_model, build_tokenizer


def conversation_rows(tokenizer, conversations: Sequence[Sequence[Message]]) -> list[Row]:
    """One training row per conversation with a loss span on every assistant turn (+ EOS), each learned given the
    conversation before it. Turns are read off the last turn's row when re-tokenising the conversation reproduces
    their ids (with a chat template it does); otherwise a turn gets a row of its own."""
    rows: list[Row] = []
    for conversation in conversations:
        turns = [i for i, m in enumerate(conversation) if m.role == "assistant"]
        encoded = encode(
            tokenizer, [(tuple(conversation[:i]), completion_ids(tokenizer, conversation[i].content)) for i in turns]
        )
        last, last_start = encoded[-1]
        spans = [(last_start, len(last))]
        for ids, start in encoded[:-1]:
            if last[: len(ids)] == ids:
                spans.append((start, len(ids)))
            else:
                rows.append((ids, ((start, len(ids)),)))
        rows.append((last, tuple(sorted(spans))))
    return rows


def pretrain(
    conversations: Sequence[Sequence[Message]],
    out: Path,
    *,
    hidden_size: int,
    layers: int,
    heads: int,
    epochs: int,
    batch_tokens: int,
    lr: float,
    seed: int,
    vocab_size: int = 512,
) -> list[float]:
    """Build a tokenizer and a model, train them on ``conversations``, save both to ``out``; return the losses."""
    torch.manual_seed(seed)
    tokenizer = build_tokenizer((m.content for c in conversations for m in c), vocab_size)
    model = build_model(len(tokenizer), hidden_size=hidden_size, layers=layers, heads=heads, seed=seed)
    model.train()
    rows = conversation_rows(tokenizer, conversations)  # tokenised once, not per epoch
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    batches = [b for _ in range(epochs) for b in _shuffled_buckets([len(r) for r, _ in rows], batch_tokens, rng)]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=len(batches), pct_start=0.05)
    losses = []
    for bucket in tqdm(batches, desc="pretrain", unit="batch"):
        batch = pad_rows(tokenizer, [rows[i] for i in bucket])
        loss = sft_loss(token_logprobs(model, batch), batch.loss_mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return losses


def _shuffled_buckets(lengths: list[int], batch_tokens: int, rng: np.random.Generator) -> list[list[int]]:
    order = rng.permutation(len(lengths)).tolist()
    chunks = [order[i : i + 4096] for i in range(0, len(order), 4096)]  # pack locally, keep the epoch shuffled
    buckets = [
        [chunk[j] for j in b]
        for chunk in chunks
        for b in length_buckets([lengths[i] for i in chunk], batch_tokens, max_stretch=1.5)
    ]
    return [buckets[i] for i in rng.permutation(len(buckets))]
