"""The fast backend: a tight KV-cache sampling loop for small Llama-family models (the CPU workhorse).

At a few million parameters ``model.generate`` is overhead-bound: per step it runs logits processors, stopping
criteria, cache bookkeeping and mask building in Python. Here the prompt is prefilled by the model's own forward;
then each step runs the decoder layers directly on a preallocated KV cache (one column per step, the same for every
row thanks to left padding), samples on tensors, records log-probs, and drops finished rows from the batch once a
quarter of it is done. The step uses the model's own weights (q|k|v and gate|up fused into one matmul each), its own
rotary table and its RMSNorm formula (``fast_ops``), so greedy outputs match the reference backend and log-probs agree
to float tolerance (tested).

Supported: the ``llama``, ``mistral`` and ``qwen2`` layouts (Qwen2's q/k/v biases are fused like the weights; the
tests check Llama and Qwen2 against ``generate``). ``supports`` says whether a model qualifies (no sliding window in
use); the ``auto`` backend falls back to ``transformers`` otherwise (for example Qwen3's q/k norms).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache

from score_env.policies import SamplingParams
from score_env.policies.chat import render_prompt
from score_env.policies.fast_ops import Weights, attend, rms_norm, rotate, sample
from score_env.policies.prefix_cache import Entry, PrefixStore, cached_columns, past_for, reusable
from score_env.records import Completion, Conversation

SUPPORTED = ("llama", "mistral", "qwen2")  # pre-norm decoders without q/k norms; qwen2 adds q/k/v biases
STOP_CHECK_EVERY = 4  # steps between stop-string checks (decoding text every step would cost more than it saves)


def supports(model: Any) -> bool:
    config = getattr(model, "config", None)
    window = getattr(config, "sliding_window", None)
    return getattr(config, "model_type", None) in SUPPORTED and not (
        window and getattr(config, "use_sliding_window", window < 4096)
    )


class FastPolicy:
    """A :class:`~score_env.policies.Policy` with a hand-written KV-cache loop."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 64, reuse_cache: bool = True):
        if not supports(model):
            raise ValueError(f"the fast backend supports {SUPPORTED} models, not {model.config.model_type!r}")
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size
        self.store = PrefixStore() if reuse_cache else None  # the last call's caches, for the next turn's prefill
        self.reused_tokens = 0  # prompt tokens whose keys and values came from the store instead of a prefill
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        prompts = [
            self.tokenizer(render_prompt(self.tokenizer, c), add_special_tokens=False)["input_ids"]
            for c in conversations
        ]
        rows = [p for p in prompts for _ in range(params.n)]
        generator = torch.Generator(device=self.device)
        generator.manual_seed(params.seed if params.seed is not None else int(torch.randint(2**62, (1,))))
        flat: list[Completion] = []
        if self.store is not None:
            self.store.begin(self.model)
        for start in range(0, len(rows), self.batch_size):
            flat += self._generate_rows(rows[start : start + self.batch_size], params, generator)
        if self.store is not None:
            self.store.end()
        flat = [replace(c, prompt_ids=tuple(row)) for c, row in zip(flat, rows, strict=True)]
        return [flat[i * params.n : (i + 1) * params.n] for i in range(len(conversations))]

    @torch.inference_mode()
    def _generate_rows(
        self, prompts: list[list[int]], params: SamplingParams, generator: torch.Generator
    ) -> list[Completion]:
        reuse = reusable(self.store, prompts) if self.store is not None else None
        state = _Decode.prefill(self, prompts, params.max_new_tokens, reuse)
        weights = Weights.of(self.model, state.column + params.max_new_tokens)
        eos = self.tokenizer.eos_token_id
        for step in range(params.max_new_tokens):
            logp = torch.log_softmax(state.logits.float(), dim=-1)  # [b, V] raw model log-probs
            token = sample(state.logits, params, generator)  # [b]
            state.record(token, logp.gather(-1, token[:, None]).squeeze(-1))
            state.done |= token == eos
            if params.stop and (step + 1) % STOP_CHECK_EVERY == 0:
                state.done |= self._hit_stop(state, params.stop)
            remaining = int(state.done.logical_not().sum())
            if remaining == 0:
                break
            state.compact_if_worth_it(remaining)
            state.logits = self._decode_step(state, weights)
        state.flush()
        completions = state.completions(self.tokenizer, params.stop)
        if self.store is not None:
            state.keep_all()
            for row, completion in enumerate(completions):
                self.store.add(state.entry(row, prompts[row], completion))
        return completions

    def _decode_step(self, state: _Decode, weights: Weights) -> torch.Tensor:
        """One token for every active row: embed, the layers on the preallocated cache, the head. Returns [b, V].

        Plain tensor ops on fused weights (q|k|v and gate|up in one matmul each), q and k rotated together with the
        model's rotary table, inline RMSNorm, no padding mask when no row has padding: about twenty ops per layer
        instead of the module calls of a model forward (at the embedded size each op costs more in dispatch than in
        arithmetic).
        """
        column = state.column
        hidden = F.embedding(state.token, weights.embed)  # [b, H]
        cos, sin = weights.cos[state.positions][:, None, :], weights.sin[state.positions][:, None, :]  # [b, 1, D]
        b, heads, kv_heads, dim = hidden.shape[0], weights.heads, weights.kv_heads, weights.head_dim
        padding = state.padding[:, None, None, : column + 1] if state.padding is not None else None
        for index, layer in enumerate(weights.layers):
            x = rms_norm(hidden, layer.input_norm, weights.eps)
            qkv = F.linear(x, layer.qkv, layer.qkv_bias)  # [b, (heads + 2 kv_heads) * dim]
            qk = rotate(qkv[:, : (heads + kv_heads) * dim].view(b, heads + kv_heads, dim), cos, sin)
            keys, values = state.keys[index], state.values[index]
            keys[:, :, column] = qk[:, heads:]
            values[:, :, column] = qkv[:, (heads + kv_heads) * dim :].view(b, kv_heads, dim)
            out = attend(qk[:, :heads], keys[:, :, : column + 1], values[:, :, : column + 1], padding, weights.scale)
            hidden = hidden + F.linear(out.reshape(b, heads * dim), layer.o)
            gate, up = F.linear(rms_norm(hidden, layer.post_norm, weights.eps), layer.gate_up).chunk(2, dim=-1)
            hidden = hidden + F.linear(F.silu(gate) * up, layer.down)
        state.column += 1
        state.positions += 1
        return F.linear(rms_norm(hidden, weights.final_norm, weights.eps), weights.head)

    def _hit_stop(self, state: _Decode, stops: tuple[str, ...]) -> torch.Tensor:
        state.flush()
        rows = state.active_rows.tolist()
        texts = self.tokenizer.batch_decode(
            [state.tokens[r, : state.lengths[r]].tolist() for r in rows], skip_special_tokens=True
        )
        return torch.tensor([any(s in t for s in stops) for t in texts], dtype=torch.bool, device=state.done.device)


class _Decode:
    """The mutable state of one batch being decoded. Rows are prompts; the *active* rows are those still in the
    cache tensors, at batch positions (finished rows leave them at the next compaction). Per step the tensors are
    indexed by batch position only; sampled tokens go to a list that :meth:`flush` writes to the rows' buffers."""

    def __init__(self, n_rows: int, max_new: int, device: torch.device):
        self.tokens = torch.zeros((n_rows, max_new), dtype=torch.long, device=device)
        self.logprobs = torch.zeros((n_rows, max_new), device=device)
        self.lengths = torch.zeros(n_rows, dtype=torch.long, device=device)
        self.active_rows = torch.arange(n_rows, device=device)  # row id at each batch position
        self.done = torch.zeros(n_rows, dtype=torch.bool, device=device)  # finished, per batch position
        self.compacted_at = n_rows
        self.pending: list[tuple[torch.Tensor, torch.Tensor]] = []  # (token, logprob) per step since the flush
        self.flushed = 0  # steps already written to the rows' buffers

    @classmethod
    def prefill(
        cls, policy: FastPolicy, prompts: list[list[int]], max_new: int, reuse: list[Entry] | None = None
    ) -> _Decode:
        """Run the prompts through the model and keep their cache; with ``reuse`` (a stored cache per row), only
        the columns past the stored ones are computed."""
        device, pad = policy.device, policy.tokenizer.pad_token_id
        state = cls(len(prompts), max_new, device)
        state.kept = {} if policy.store is not None else None
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long, device=device)
        mask = torch.zeros((len(prompts), width), dtype=torch.long, device=device)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        start = cached_columns(reuse, prompts) if reuse is not None else 0
        past = None
        if start > 0:
            policy.reused_tokens += int(mask[:, :start].sum())
            past = DynamicCache(config=policy.model.config)
            for layer, (keys, values) in enumerate(past_for(reuse, prompts, start, policy.model.lm_head.weight)):
                past.update(keys, values, layer)
        cache_arg = "cache" if "cache" in inspect.signature(policy.model.forward).parameters else "past_key_values"
        out = policy.model(
            input_ids=ids[:, start:],
            attention_mask=mask,
            position_ids=positions[:, start:],
            use_cache=True,
            logits_to_keep=1,
            **{cache_arg: past},
        )  # fmt: skip  (transformers 5 names the cache `cache`, 4.x `past_key_values`)
        state.logits = out.logits[:, -1]
        state.keys, state.values = [], []
        for layer in (out.cache if cache_arg == "cache" else out.past_key_values).layers:
            for source, buffers in ((layer.keys, state.keys), (layer.values, state.values)):
                b, heads, _, dim = source.shape
                # Each column from `width` on is written by the decode step that first reads it: no zeroing needed.
                buffer = torch.empty((b, heads, width + max_new, dim), dtype=source.dtype, device=device)
                buffer[:, :, :width] = source
                buffers.append(buffer)
        padding = torch.zeros((len(prompts), width + max_new), dtype=torch.bool, device=device)
        padding[:, :width] = mask == 0
        state.padding = padding if bool(padding.any()) else None  # [b, S] True at left padding
        state.positions = positions[:, -1] + 1
        state.column = state.width = width
        state.starts = [width - len(p) for p in prompts]  # each row's first real column
        return state

    def record(self, token: torch.Tensor, logprob: torch.Tensor) -> None:
        self.token = token
        self.pending.append((token, logprob.float()))

    def flush(self) -> None:
        """Write the steps sampled since the last flush to the active rows' buffers."""
        if not self.pending:
            return
        end = self.flushed + len(self.pending)
        self.tokens[self.active_rows, self.flushed : end] = torch.stack([t for t, _ in self.pending], dim=1)
        self.logprobs[self.active_rows, self.flushed : end] = torch.stack([lp for _, lp in self.pending], dim=1)
        self.lengths[self.active_rows] = end
        self.pending, self.flushed = [], end

    def compact_if_worth_it(self, remaining: int) -> None:
        """Drop finished rows from the cache once they are a quarter of the batch (copying the cache costs)."""
        if remaining == len(self.active_rows) or remaining > 0.75 * self.compacted_at:
            return
        self.flush()
        if self.kept is not None:  # the rows leaving the cache keep theirs, for the next turn's prefill
            self._keep(torch.nonzero(self.done).flatten().tolist())
        keep = torch.nonzero(~self.done).flatten()
        self.keys = [k.index_select(0, keep) for k in self.keys]
        self.values = [v.index_select(0, keep) for v in self.values]
        self.positions = self.positions.index_select(0, keep)
        if self.padding is not None:
            self.padding = self.padding.index_select(0, keep)
        self.logits, self.token = self.logits.index_select(0, keep), self.token.index_select(0, keep)
        self.active_rows, self.done = self.active_rows[keep], self.done[keep]
        self.compacted_at = len(keep)

    def _keep(self, positions: list[int]) -> None:
        """Copy the cache of the rows at these batch positions (their real columns so far) out of the batch."""
        for position in positions:
            row = int(self.active_rows[position])
            start = self.starts[row]
            self.kept[row] = (
                self.column - self.width,  # tokens fed so far
                tuple(k[position, :, start : self.column].clone() for k in self.keys),
                tuple(v[position, :, start : self.column].clone() for v in self.values),
            )

    def keep_all(self) -> None:
        """At the end of the batch: keep the cache of every row still in it."""
        self._keep(list(range(len(self.active_rows))))

    def entry(self, row: int, prompt: list[int], completion: Completion) -> Entry:
        """The row's stored cache under its prompt and completion ids (as far as both agree: fed tokens past the
        completion's end, sampled after the row finished, are not part of any later prompt)."""
        fed, keys, values = self.kept[row]
        tokens = (*prompt, *completion.token_ids)
        covered = min(len(prompt) + fed, len(tokens))
        return Entry(tokens, covered, tuple(k[:, :covered] for k in keys), tuple(v[:, :covered] for v in values))

    def completions(self, tokenizer: Any, stops: tuple[str, ...]) -> list[Completion]:
        eos = tokenizer.eos_token_id
        out = []
        for row, length in enumerate(self.lengths.tolist()):
            ids = self.tokens[row, :length].tolist()
            if eos in ids:
                length = ids.index(eos) + 1
            ids, logprobs = _cut_at_stop(tokenizer, ids[:length], self.logprobs[row, :length].tolist(), stops)
            stopped = ids[-1:] == [eos] or bool(stops and _has_stop(tokenizer, ids, stops))
            text = tokenizer.decode(ids, skip_special_tokens=True)
            out.append(Completion(text, tuple(ids), tuple(logprobs), "stop" if stopped else "length"))
        return out


def _has_stop(tokenizer: Any, ids: list[int], stops: tuple[str, ...]) -> bool:
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return any(s in text for s in stops)


def _cut_at_stop(
    tokenizer: Any, ids: list[int], logprobs: list[float], stops: tuple[str, ...]
) -> tuple[list[int], list[float]]:
    """Keep tokens up to (and including) the one that completes the first stop string."""
    if not stops or not _has_stop(tokenizer, ids, stops):
        return ids, logprobs
    for end in range(1, len(ids) + 1):
        if _has_stop(tokenizer, ids[:end], stops):
            return ids[:end], logprobs[:end]
    return ids, logprobs
