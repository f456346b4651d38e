"""Tokens/s of the fast KV-cache backend against ``model.generate`` (the transformers backend), same model, same run.

    python benchmarks/speed/generation.py [--sizes embedded 10m] [--new-tokens 64] [--repeats 5]

Two model sizes built from a config: the embedded default's (``score_env.tiny_model.EMBEDDED_SIZE``, 0.7M
parameters) and ~10M parameters, with random weights and sampling at temperature 1, so nearly every row generates
the full ``--new-tokens`` (the fast backend's dropping of finished rows barely helps it). The two backends take
turns, ``--repeats`` times, and each keeps its best time (this machine is shared; turns spread the noise over both).
Also prints the achieved FLOP/s as a fraction of this machine's fp32 matmul peak, measured here, and a bound no
fp32 sampler can pass on this machine: one decode step's weight matmuls alone (q|k|v, o, gate|up, down per layer and
the head, timed apart from everything else), as tokens/s and as the ratio to ``generate`` it would give.

Then the workload the benchmark runs: the committed embedded model answering 128 arithmetic test problems greedily
(up to 128 new tokens, batches of 64 as ``policy.batch_size``), where answers end at different lengths; and a
training-shaped two-attempt rollout with attempt 2's prefill reusing attempt 1's cache, against a full prefill.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from score_env.assets import embedded_model_path
from score_env.envs.arithmetic import FIRST_PROMPT, make_task
from score_env.policies import SamplingParams
from score_env.policies.fast import FastPolicy
from score_env.policies.fast_ops import Weights
from score_env.policies.transformers_backend import TransformersPolicy, load_model_and_tokenizer
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


SIZES = {"embedded": EMBEDDED_SIZE, "10m": {"hidden_size": 384, "layers": 7, "heads": 6}}


def matmul_bound(model, batch: int, repeats: int = 20) -> float:
    """Tokens/s if a decode step cost only its weight matmuls (the same shapes as the fast sampler's fused ones)."""
    weights, hidden = Weights.of(model, 8), torch.randn(batch, model.config.hidden_size)
    inner = torch.randn(batch, model.config.intermediate_size)

    def step() -> None:
        for layer in weights.layers:
            for weight in (layer.qkv, layer.o, layer.gate_up):
                F.linear(hidden, weight)
            F.linear(inner, layer.down)
        F.linear(hidden, weights.head)

    best = float("inf")
    with torch.inference_mode():
        step()
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            best = min(best, (time.perf_counter() - start) / repeats)
    return batch / best


def tokens_per_second(policies, conversations, new_tokens: int, repeats: int, temperature: float = 1.0) -> list[float]:
    """Each policy's best tokens/s over ``repeats`` turns (the policies alternate within each turn)."""
    params = SamplingParams(temperature=temperature, top_p=1.0, max_new_tokens=new_tokens, seed=0)
    for policy in policies:  # warm up
        policy.generate(conversations[:2], SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=4, seed=0))
    best = [0.0] * len(policies)
    for _ in range(repeats):
        for i, policy in enumerate(policies):
            start = time.perf_counter()
            out = policy.generate(conversations, params)
            best[i] = max(best[i], sum(len(c[0].token_ids) for c in out) / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["embedded", "10m"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 32, 128])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    corpus = [f"Compute {i} + {7 * i} * {i % 9}. Answer: {i + 7 * i * (i % 9)}" for i in range(2000)]
    tokenizer = build_tokenizer(corpus)
    peak = matmul_peak_flops()
    print(f"fp32 matmul peak here: {peak / 1e9:.1f} GFLOP/s ({torch.get_num_threads()} threads)")
    for name in args.sizes:
        size = SIZES[name]
        model = build_model(
            len(tokenizer), hidden_size=size["hidden_size"], layers=size["layers"], heads=size["heads"]
        ).eval()
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {n_params / 1e6:.2f}M parameters")
        policies = TransformersPolicy(model, tokenizer, batch_size=256), FastPolicy(model, tokenizer, batch_size=256)
        for batch in args.batches:
            conversations = [(Message("user", f"Compute {i} + {3 * i} * 2."),) for i in range(batch)]
            slow, quick = tokens_per_second(policies, conversations, args.new_tokens, args.repeats)
            context = 20 + args.new_tokens // 2
            utilisation = quick * flops_per_token(model, context) / peak
            bound = matmul_bound(model, batch)
            print(
                f"  batch {batch:>3}: generate {slow:8.0f} tok/s | fast {quick:8.0f} tok/s | "
                f"ratio {quick / slow:5.2f}x | fast at {100 * utilisation:.1f}% of matmul peak | "
                f"matmuls alone {bound:6.0f} tok/s = {bound / slow:4.1f}x generate"
            )
    model, tokenizer = load_model_and_tokenizer(str(embedded_model_path()))
    conversations = [(Message("user", FIRST_PROMPT.format(expression=p.question)),) for p in make_task("test").problems]
    policies = TransformersPolicy(model, tokenizer, batch_size=64), FastPolicy(model, tokenizer, batch_size=64)
    slow, quick = tokens_per_second(policies, conversations[:128], 128, args.repeats, temperature=0.0)
    print(
        f"embedded model, 128 test problems, greedy: generate {slow:6.0f} tok/s | fast {quick:6.0f} tok/s | "
        f"ratio {quick / slow:5.2f}x"
    )
    second_attempts(model, tokenizer, args.repeats)


def second_attempts(model, tokenizer, repeats: int) -> None:
    """Attempt 2 of 64 training-like episodes (T=1) with attempt 1's cache reused, against a full prefill."""
    from functools import partial

    from score_env.registry import EnvFactory
    from score_env.rollout import collect_episodes

    make = partial(EnvFactory("score/Arithmetic-v0", "train").open(), 2)  # nothing to close
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=128)
    best = {}
    for _ in range(repeats):
        for reuse in (False, True):
            policy = FastPolicy(model, tokenizer, batch_size=64, reuse_cache=reuse)
            start = time.perf_counter()
            groups = collect_episodes(make, policy, list(range(8)), params, samples_per_problem=8, seed=1)
            best[reuse] = min(best.get(reuse, float("inf")), time.perf_counter() - start)
            prompt = sum(len(e.attempts[1].prompt_ids) for g in groups for e in g.episodes)
            reused = policy.reused_tokens
    print(
        f"two-attempt rollout, 8 problems x 8 samples, T=1: {best[False]:.3f} s with a full prefill of attempt 2, "
        f"{best[True]:.3f} s reusing attempt 1's cache ({reused} of attempt 2's {prompt} prompt tokens not "
        f"prefilled again): {best[False] / best[True]:.2f}x"
    )


if __name__ == "__main__":
    main()
