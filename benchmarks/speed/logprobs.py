"""The learner's log-probs with the LM head on the loss positions only, against the full [B, T, V] logits.

    python benchmarks/speed/logprobs.py [--vocabs 389 32000 151936]

Forward + backward of ``token_logprobs`` on SCoRe-shaped rows (32 rows of 240 tokens: a 36-token prompt, attempt 1
of 20-32 tokens, a 140-token correction instruction, attempt 2 of 20-32 tokens, lengths varying by row), a 4-layer,
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
    rows, length = 32, 240
    loss_mask = torch.zeros(rows, length - 1)
    for row in range(rows):  # attempt 1: 20-32 tokens after a 36-token prompt; attempt 2 after a 140-token instruction
        first_end = 36 + 20 + (5 * row) % 13
        second = first_end + 140
        loss_mask[row, 35 : first_end - 1] = 1
        loss_mask[row, second - 1 : min(second + 20 + (7 * row) % 13, length) - 1] = 1
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
