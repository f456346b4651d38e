"""Tokens/s of the fast KV-cache backend against ``model.generate`` (the transformers backend), same model, same run.

    python benchmarks/speed/generation.py [--new-tokens 64] [--repeats 3]

The model has the embedded default's size (``score_env.tiny_model.EMBEDDED_SIZE``, a few million parameters) with
random weights and sampling at temperature 1, so every row generates the full ``--new-tokens`` (no early EOS helps
either side). Also prints the achieved FLOP/s as a fraction of this machine's fp32 matmul peak, measured here.
"""

from __future__ import annotations

import argparse
import time

import torch

from score_env.policies import SamplingParams
from score_env.policies.fast import FastPolicy
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Message
from score_env.tiny_model import EMBEDDED_SIZE, build_model, build_tokenizer


def matmul_peak_flops(size: int = 1024, seconds: float = 2.0) -> float:
    """Best fp32 GEMM FLOP/s over a few timed runs (the practical peak of this CPU with torch's threads)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(8):
            torch.mm(a, b)
        best = max(best, 8 * 2 * size**3 / (time.perf_counter() - start))
    return best


def flops_per_token(model, context: int) -> float:
    """2 FLOPs per weight per token (matmuls incl. the LM head) + attention over ``context`` positions."""
    config = model.config
    weights = sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n)
    if config.tie_word_embeddings:
        weights += model.lm_head.weight.numel()
    attention = 2 * 2 * config.num_hidden_layers * context * config.hidden_size
    return 2 * weights + attention


def tokens_per_second(policy, conversations, new_tokens: int, repeats: int) -> float:
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=new_tokens, seed=0)
    policy.generate(conversations[:2], SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=4, seed=0))  # warm up
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        out = policy.generate(conversations, params)
        best = max(best, sum(len(c[0].token_ids) for c in out) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    corpus = [f"Compute {i} + {7 * i} * {i % 9}. Answer: {i + 7 * i * (i % 9)}" for i in range(2000)]
    tokenizer = build_tokenizer(corpus)
    size = EMBEDDED_SIZE
    model = build_model(len(tokenizer), hidden_size=size["hidden_size"], layers=size["layers"], heads=size["heads"])
    model.eval()
    peak = matmul_peak_flops()
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"model: {n_params / 1e6:.2f}M parameters; fp32 matmul peak here: {peak / 1e9:.1f} GFLOP/s "
        f"({torch.get_num_threads()} threads)"
    )
    reference, fast = TransformersPolicy(model, tokenizer, batch_size=256), FastPolicy(model, tokenizer, batch_size=256)
    for batch in (1, 32, 128):
        conversations = [(Message("user", f"Compute {i} + {3 * i} * 2."),) for i in range(batch)]
        slow = tokens_per_second(reference, conversations, args.new_tokens, args.repeats)
        quick = tokens_per_second(fast, conversations, args.new_tokens, args.repeats)
        context = 20 + args.new_tokens // 2
        utilisation = quick * flops_per_token(model, context) / peak
        print(
            f"batch {batch:>3}: generate {slow:8.0f} tok/s | fast {quick:8.0f} tok/s | ratio {quick / slow:5.2f}x | "
            f"fast at {100 * utilisation:.1f}% of matmul peak"
        )


if __name__ == "__main__":
    main()
