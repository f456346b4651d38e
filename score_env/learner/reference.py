"""The frozen reference policy the KL terms are measured against (the base model, docs/paper.md "SCoRe").

It is also the base model to *sample* from (SCoRe's optional base-model first attempts, the distribution-shift
analysis): :meth:`Reference.sampler`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from score_env.learner.batch import TokenBatch, token_logprobs
from score_env.policies import ModelPolicy, Policy, SamplingParams
from score_env.policies.factory import wrap_model
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Completion, Conversation


class Reference(Protocol):
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        """[B, T-1] log-probabilities under the reference, without gradient."""
        ...

    def sampler(self, tokenizer: Any, batch_size: int) -> Policy:
        """A policy that samples from the reference (the base model)."""
        ...


class FrozenCopy:
    """A frozen deep copy of the initial policy."""

    def __init__(self, model: Any):
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)

    @torch.no_grad()
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        return token_logprobs(self.model, batch)

    def sampler(self, tokenizer: Any, batch_size: int) -> Policy:
        return wrap_model(self.model, tokenizer, batch_size)


class DisabledAdapter:
    """With LoRA (peft), the reference is the same model with the adapter switched off: no second copy."""

    def __init__(self, model: Any):
        self.model = model

    @torch.no_grad()
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        with self.model.disable_adapter():
            return token_logprobs(self.model, batch)

    def sampler(self, tokenizer: Any, batch_size: int) -> Policy:
        return WithoutAdapter(TransformersPolicy(self.model, tokenizer, batch_size))


@dataclass(frozen=True)
class WithoutAdapter:
    """Samples from a peft model with its adapter switched off, i.e. from the base model it adapts."""

    policy: ModelPolicy

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        with self.policy.model.disable_adapter():
            return self.policy.generate(conversations, params)


def make_reference(model: Any) -> Reference:
    return DisabledAdapter(model) if hasattr(model, "disable_adapter") else FrozenCopy(model)
