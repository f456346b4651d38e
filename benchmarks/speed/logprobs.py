"""The learner's log-probs with the LM head on the loss positions only, against the full [B, T, V] logits.

    python benchmarks/speed/logprobs.py [--vocabs 389 32000 151936]

Forward + backward of ``token_logprobs`` on SCoRe-shaped rows (32 rows of 220 tokens: a prompt, attempt 1 at
positions 36-68, the correction instruction, attempt 2 at 180-219; 32% of positions carry loss), a 4-layer,
256-wide model built from a config at each vocabulary size (the embedded model's 389, Llama-2's 32k, Qwen2.5's 152k).
Best of ``--repeats``, the two ways taking turns.
"""

from __future__ import annotations

import argparse
import time

import torch

import score_env.learner.batch as batch_module
from score_env.learner.batch import TokenBatch, token_logprobs
from score_env.tiny_model import build_model


def seconds(model, batch: TokenBatch, keep_positions: bool) -> float:
    batch_module.KEEP_POSITIONS_FROM_VOCAB = 0 if keep_positions else 10**9
    model.zero_grad()
    start = time.perf_counter()
    (token_logprobs(model, batch) * batch.loss_mask).sum().backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabs", nargs="+", type=int, default=[389, 32000, 151936])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows, length = 32, 220
    loss_mask = torch.zeros(rows, length - 1)
    loss_mask[:, 36:68] = 1
    loss_mask[:, 180:219] = 1
    for vocab in args.vocabs:
        model = build_model(vocab, hidden_size=256, layers=4, heads=4)
        ids = torch.randint(0, vocab, (rows, length))
        batch = TokenBatch(ids, torch.ones_like(ids), ids[:, 1:], loss_mask)
        full, kept = float("inf"), float("inf")
        for _ in range(args.repeats):
            full = min(full, seconds(model, batch, keep_positions=False))
            kept = min(kept, seconds(model, batch, keep_positions=True))
        print(f"vocab {vocab:>6}: full logits {full:6.2f} s | loss positions {kept:6.2f} s | ratio {full / kept:.2f}x")


if __name__ == "__main__":
    main()
