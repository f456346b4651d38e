"""The tensor operations of the fast sampler's decode step (see :mod:`score_env.policies.fast`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from score_env.policies import SamplingParams


@dataclass(frozen=True)
class Layer:
    input_norm: torch.Tensor  # [H]
    qkv: torch.Tensor  # [(heads + 2 kv_heads) * D, H], q|k|v projections fused
    qkv_bias: torch.Tensor | None  # [(heads + 2 kv_heads) * D], q|k|v biases fused (qwen2), or None (llama)
    o: torch.Tensor  # [H, heads * D]
    post_norm: torch.Tensor  # [H]
    gate_up: torch.Tensor  # [2 I, H]
    down: torch.Tensor  # [H, I]


@dataclass(frozen=True)
class Weights:
    """The model's weights laid out for decoding, rebuilt at every ``generate`` call (the learner updates the
    model in place between calls, so nothing may be cached across them)."""

    embed: torch.Tensor  # [V, H]
    layers: list[Layer]
    final_norm: torch.Tensor
    head: torch.Tensor  # [V, H]
    cos: torch.Tensor  # [max positions, D] the model's own rotary table
    sin: torch.Tensor  # [max positions, D] with its first half negated (see ``rotate``)
    heads: int
    kv_heads: int
    head_dim: int
    scale: float
    eps: float

    @classmethod
    def of(cls, model: Any, positions: int) -> Weights:
        inner = model.model
        attention = inner.layers[0].self_attn
        layers = []
        for layer in inner.layers:
            a, m = layer.self_attn, layer.mlp
            layers.append(
                Layer(
                    layer.input_layernorm.weight,
                    torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
                    _fused_bias(a.q_proj, a.k_proj, a.v_proj),
                    a.o_proj.weight,
                    layer.post_attention_layernorm.weight,
                    torch.cat([m.gate_proj.weight, m.up_proj.weight]),
                    m.down_proj.weight,
                )
            )
        probe = inner.embed_tokens.weight[:1]
        cos, sin = inner.rotary_emb(probe, torch.arange(positions, device=probe.device)[None])
        config = model.config
        return cls(
            inner.embed_tokens.weight,
            layers,
            inner.norm.weight,
            model.lm_head.weight,
            cos[0],
            sin[0] * _half_signs(sin.shape[-1], sin),
            config.num_attention_heads,
            config.num_key_value_heads,
            attention.head_dim,
            attention.scaling,
            inner.norm.variance_epsilon,
        )


def _half_signs(dim: int, like: torch.Tensor) -> torch.Tensor:
    """[-1, ..., -1, 1, ..., 1]: rotate_half(x) * sin == swap_halves(x) * (sin with its first half negated)."""
    return torch.cat([-like.new_ones(dim // 2), like.new_ones(dim - dim // 2)])


def _fused_bias(*projections: Any) -> torch.Tensor | None:
    """The projections' biases in one vector (Qwen2 has q/k/v biases), or None when they have none (Llama)."""
    if all(p.bias is None for p in projections):
        return None
    return torch.cat([p.bias if p.bias is not None else p.weight.new_zeros(p.out_features) for p in projections])


def attend(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, padding: torch.Tensor | None, scale: float
) -> torch.Tensor:
    """One query per row over the cache: softmax(q·Kᵀ·scale, padding masked)·V. q [b, h, D], keys/values
    [b, kv, S, D], padding [b, 1, 1, S] (True where a row has left padding) or None when no row has any; returns
    [b, h, D]. Written out because SDPA's masked CPU path costs ~10x more at these sizes. Grouped-query heads share
    their key/value head."""
    b, heads, dim = q.shape
    groups = heads // keys.shape[1]
    q = q.view(b, keys.shape[1], groups, dim)  # [b, kv, g, D]
    scores = torch.matmul(q, keys.transpose(-1, -2)) * scale  # [b, kv, g, S]
    if padding is not None:
        scores = scores.masked_fill(padding, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), values).view(b, heads, dim)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm as the model computes it (in float32, then back). In float32 on CPU, torch's ``rms_norm`` gives the
    same bits in one call."""
    if x.dtype == torch.float32 and x.device.type == "cpu":  # checked bit-identical on CPU only
        return F.rms_norm(x, weight.shape, weight, eps)
    x32 = x.float()
    return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def rotate(x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding, x * cos + rotate_half(x) * sin, with rotate_half's negation moved into ``signed_sin``
    (exact: negation commutes with the product) and its two halves swapped by one flip. x [b, n, D]."""
    b, n, dim = x.shape
    swapped = x.view(b, n, 2, dim // 2).flip(2).view(b, n, dim)
    return x * cos + swapped * signed_sin


def sample(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator) -> torch.Tensor:
    """Greedy, or temperature + top-p sampling, on tensors. [b, V] -> [b]."""
    if params.greedy:
        return logits.argmax(dim=-1)
    scaled = logits.float() / params.temperature
    if params.top_p < 1.0:
        probs, order = torch.softmax(scaled, dim=-1).sort(dim=-1, descending=True)
        outside = probs.cumsum(-1) - probs > params.top_p  # keep the smallest set of tokens reaching top_p
        scaled = scaled.scatter(-1, order, scaled.gather(-1, order).masked_fill(outside, float("-inf")))
    # Gumbel-max: argmax(logits/T + Gumbel noise) is an exact sample of softmax(logits/T), cheaper than multinomial.
    uniform = torch.rand(scaled.shape, generator=generator, device=scaled.device).clamp_(min=1e-20)
    return (scaled - torch.log(-torch.log(uniform))).argmax(dim=-1)
