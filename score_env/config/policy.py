"""The pieces every command shares: how a model runs, how it samples, and LoRA."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveInt, ValidationInfo, field_validator, model_validator

from score_env.config.base import Strict
from score_env.policies import SamplingParams

EXTRAS = {"vllm": "vllm", "peft": "lora", "tensorboard": "tensorboard", "datasets": "hub", "wandb": "wandb",
          "openai": "openai"}  # fmt: skip


def require(module: str, what: str) -> None:
    """Fail now, with the install command, when an optional extra is missing (not after a model has loaded)."""
    if importlib.util.find_spec(module) is None:
        raise ValueError(f"{what} needs the {module} package: pip install 'score-env[{EXTRAS[module]}]'")


def check_tracker(on: bool, info: ValidationInfo) -> bool:
    """``tensorboard=true`` / ``wandb=true``: the package is installed (and W&B can log), before any model loads."""
    if on:
        require(info.field_name, f"{info.field_name}=true")
        if info.field_name == "wandb" and (why := wandb_ready()):
            raise ValueError(why)
    return on


def wandb_ready() -> str | None:
    """Why ``wandb=true`` cannot log here, or None: online W&B needs a login; offline and disabled modes do not."""
    if os.environ.get("WANDB_MODE", "").lower() in ("offline", "disabled", "dryrun") or os.environ.get("WANDB_API_KEY"):
        return None
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    if netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="replace"):
        return None
    return (
        "wandb=true needs a W&B login (run `wandb login`, or set WANDB_API_KEY), or WANDB_MODE=offline to log locally"
    )


class PolicyConfig(Strict):
    """How the model is loaded and run."""

    backend: Literal["auto", "fast", "transformers", "vllm", "openai"] = "auto"
    """Generation backend: ``auto`` = the fast KV-cache loop for Llama/Mistral-layout models, else transformers;
    ``vllm`` for GPUs (optional extra); ``openai`` = a served model behind an OpenAI-compatible endpoint
    (``base_url``; ``model=`` is the name it serves; sampling only, never trained; the openai extra)."""
    base_url: str | None = None
    """``backend=openai``: the endpoint's API root, e.g. ``http://127.0.0.1:8000/v1`` (vllm serve)."""
    api: Literal["chat", "completions"] = "chat"
    """``backend=openai``: ``chat`` (the server applies the chat template) or ``completions`` (the prompt rendered
    here with ``tokenizer``, as the in-process backends render it)."""
    api_key_env: str = "OPENAI_API_KEY"
    """``backend=openai``: the environment variable holding the API key (the key itself is never in a config)."""
    tokenizer: str | None = None
    """``backend=openai, api=completions``: the tokenizer's directory or hub name (null = ``model=``, when local)."""
    concurrency: PositiveInt = 8
    """``backend=openai``: requests in flight at once."""
    timeout_s: float = Field(120.0, gt=0)
    """``backend=openai``: the longest one request may take."""
    max_retries: int = Field(5, ge=0)
    """``backend=openai``: retries of a rate-limited (429), timed-out or failed (5xx) request, with backoff."""
    device: str = "cpu"
    """Torch device, e.g. ``cpu`` or ``cuda:0``."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Compute dtype (float32 on CPU: bfloat16 is slow there)."""
    batch_size: PositiveInt = 64
    """Rows per forward pass when generating."""
    reuse_cache: bool = True
    """The fast backend keeps each row's key/value cache for the next turn, whose prompt extends it (attempt 2 after
    attempt 1): only the new tokens are prefilled. Same tokens; log-probs equal to float tolerance, not bitwise. It
    holds the last call's keys and values in memory (rows x tokens x layers; turn it off for large models)."""

    @field_validator("backend")
    @classmethod
    def _backend_installed(cls, backend: str) -> str:
        if backend in ("vllm", "openai"):
            require(backend, f"policy.backend={backend}")
        return backend

    @model_validator(mode="after")
    def _served_needs_an_endpoint(self) -> PolicyConfig:
        if self.backend == "openai" and not self.base_url:
            raise ValueError("policy.backend=openai needs policy.base_url (e.g. http://127.0.0.1:8000/v1)")
        return self

    @property
    def served(self) -> bool:
        """A model behind an endpoint (``backend=openai``): only sampled, never trained or loaded here."""
        return self.backend == "openai"

    @field_validator("device")
    @classmethod
    def _device_exists(cls, device: str) -> str:
        import torch

        try:
            kind = torch.device(device).type
        except RuntimeError:
            raise ValueError("not a torch device; use cpu, cuda or cuda:<index>") from None
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError("this torch has no usable CUDA device (a CPU build, or no GPU): use policy.device=cpu")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"{kind} devices are not supported; use cpu or cuda")
        return device

    def load(self, model: str) -> Any:
        """The model at ``model`` (a local path or hub name; with ``backend=openai`` the name the endpoint serves) as a
        policy with these settings."""
        if self.served:
            return self.connect(model)
        from score_env.policies.factory import load_policy

        return load_policy(
            model, backend=self.backend, device=self.device, dtype=self.dtype, batch_size=self.batch_size,
            reuse_cache=self.reuse_cache,
        )  # fmt: skip

    def connect(self, model: str) -> Any:
        """``backend=openai``: a policy over the endpoint; nothing is loaded here but, for ``api=completions``, the
        tokenizer that renders prompts."""
        from score_env.policies.openai_backend import OpenAIPolicy, make_client

        client = make_client(self.base_url or "", self.api_key_env, self.timeout_s, self.max_retries)
        tokenizer = None
        if self.api == "completions":
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.tokenizer or model)
        return OpenAIPolicy(client, model, api=self.api, tokenizer=tokenizer, concurrency=self.concurrency)


class SamplingConfig(Strict):
    """Decoding settings."""

    temperature: float = Field(0.0, ge=0.0)
    """0 = greedy (the paper evaluates greedily)."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    max_new_tokens: PositiveInt = 256
    """Longest attempt, in tokens."""

    def params(self, seed: int | None = None) -> SamplingParams:
        return SamplingParams(self.temperature, self.top_p, self.max_new_tokens, n=1, seed=seed)


class LoraConfig(Strict):
    """Train a LoRA adapter (peft) instead of all weights; the reference is then the base with the adapter off."""

    rank: PositiveInt = 8
    """Adapter rank r."""
    alpha: PositiveInt = 16
    """LoRA scaling α."""
    dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout on the adapter input."""
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj"]  # noqa: RUF012  (pydantic copies)
    """Module names to adapt."""
