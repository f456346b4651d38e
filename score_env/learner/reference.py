"""The frozen reference policy the KL terms are measured against (the base model, PAPER.md "SCoRe")."""

from __future__ import annotations

import copy
from typing import Any, Protocol

import torch

from score_env.learner.batch import TokenBatch, token_logprobs


class Reference(Protocol):
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        """[B, T-1] log-probabilities under the reference, without gradient."""
        ...


class FrozenCopy:
    """A frozen deep copy of the initial policy."""

    def __init__(self, model: Any):
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)

    @torch.no_grad()
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        return token_logprobs(self.model, batch)


class DisabledAdapter:
    """With LoRA (peft), the reference is the same model with the adapter switched off: no second copy."""

    def __init__(self, model: Any):
        self.model = model

    @torch.no_grad()
    def logprobs(self, batch: TokenBatch) -> torch.Tensor:
        with self.model.disable_adapter():
            return token_logprobs(self.model, batch)


def make_reference(model: Any) -> Reference:
    return DisabledAdapter(model) if hasattr(model, "disable_adapter") else FrozenCopy(model)
