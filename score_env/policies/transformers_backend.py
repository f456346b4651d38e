"""The reference backend: Hugging Face ``transformers`` ``generate``.

Loads any local path or hub name with ``AutoModelForCausalLM`` + ``AutoTokenizer``; renders conversations with
the tokenizer's chat template (plain ``Role: content`` text when it has none); pads on the left; computes in
float32 on CPU. Log-probs are those of the raw model (temperature 1, before top-p), which is what the learner
needs, whatever temperature was used to sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from score_env.policies import SamplingParams
from score_env.policies.chat import render_prompt
from score_env.records import Completion, Conversation

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class TransformersPolicy:
    """A :class:`~score_env.policies.Policy` over a ``transformers`` causal LM."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 32):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, *, device: str = "cpu", dtype: str = "float32", batch_size: int = 32
    ) -> TransformersPolicy:
        model, tokenizer = load_model_and_tokenizer(name_or_path, device, dtype)
        return cls(model, tokenizer, batch_size=batch_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        results: list[list[Completion]] = []
        # Micro-batches of conversations; each conversation yields params.n rows.
        step = max(1, self.batch_size // params.n)
        with torch.random.fork_rng(devices=[]):  # seed without disturbing the caller's RNG stream
            if params.seed is not None:
                torch.manual_seed(params.seed)
            for start in range(0, len(conversations), step):
                results.extend(self._generate_batch(conversations[start : start + step], params))
        return results

    @torch.inference_mode()
    def _generate_batch(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        prompts = [render_prompt(self.tokenizer, c) for c in conversations]
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sampling: dict[str, Any] = (
            {"do_sample": False}
            if params.greedy
            else {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}
        )
        out = self.model.generate(
            **inputs,
            **sampling,
            max_new_tokens=params.max_new_tokens,
            num_return_sequences=params.n,
            eos_token_id=self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
            return_dict_in_generate=True,
            output_logits=True,
        )
        prompt_len = inputs["input_ids"].shape[1]
        tokens = out.sequences[:, prompt_len:]  # [B*n, T]
        logits = torch.stack(out.logits, dim=1).float()  # [B*n, T, V] raw logits, before any sampling processor
        logprobs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)  # [B*n, T]
        pairs = zip(inputs["input_ids"], inputs["attention_mask"], strict=True)
        prompt_ids = [tuple(ids[mask.bool()].tolist()) for ids, mask in pairs]  # without the left padding
        rows = [self._completion(tokens[i], logprobs[i], prompt_ids[i // params.n]) for i in range(tokens.shape[0])]
        return [rows[i * params.n : (i + 1) * params.n] for i in range(len(conversations))]

    def _completion(self, tokens: torch.Tensor, logprobs: torch.Tensor, prompt_ids: tuple[int, ...]) -> Completion:
        ids = tokens.tolist()
        eos = self.tokenizer.eos_token_id
        length, finish = len(ids), "length"
        if eos in ids:
            length, finish = ids.index(eos) + 1, "stop"
        ids = ids[:length]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        return Completion(text, tuple(ids), tuple(logprobs[:length].tolist()), finish, prompt_ids)


def load_model_and_tokenizer(name_or_path: str, device: str = "cpu", dtype: str = "float32") -> tuple[Any, Any]:
    """``AutoModelForCausalLM`` + ``AutoTokenizer`` from a local path or hub name, in eval mode on ``device``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    model = AutoModelForCausalLM.from_pretrained(name_or_path, dtype=DTYPES[dtype]).to(device)
    model.eval()
    return model, tokenizer
