"""Token log-probs: the LM head on the loss positions only gives the full-logits values and gradients."""

from __future__ import annotations

import torch

import score_env.learner.batch as batch_module
from score_env.learner.batch import build_batch, pad_rows, token_logprobs
from score_env.policies.transformers_backend import load_model_and_tokenizer
from score_env.records import Message


def _logprobs_and_grads(model, batch, keep_from_vocab, monkeypatch):
    monkeypatch.setattr(batch_module, "KEEP_POSITIONS_FROM_VOCAB", keep_from_vocab)
    model.zero_grad()
    logp = token_logprobs(model, batch)
    (logp * batch.loss_mask).sum().backward()
    return logp.detach(), [p.grad.clone() for p in model.parameters()]


def test_kept_positions_match_the_full_logits(talking_model_dir, monkeypatch):
    model, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    items = [
        ((Message("user", f"Say {w}."),), tokenizer(f" {w} {w}", add_special_tokens=False)["input_ids"])
        for w in ("red", "blue")
    ]
    batch = build_batch(tokenizer, items)
    full, full_grads = _logprobs_and_grads(model, batch, 10**9, monkeypatch)
    kept, kept_grads = _logprobs_and_grads(model, batch, 0, monkeypatch)
    assert torch.allclose(kept, full, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(kept_grads, full_grads, strict=True))
    assert (kept[batch.loss_mask == 0] == 0).all() and (kept[batch.loss_mask == 1] < 0).all()


def test_several_spans_in_one_row_all_get_logprobs(talking_model_dir, monkeypatch):
    model, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    monkeypatch.setattr(batch_module, "KEEP_POSITIONS_FROM_VOCAB", 0)
    ids = tokenizer("Say red. red red Say blue. blue", add_special_tokens=False)["input_ids"]
    batch = pad_rows(tokenizer, [(ids, ((2, 4), (len(ids) - 2, len(ids))))])
    with torch.no_grad():
        logp = token_logprobs(model, batch)[0]
    assert (logp[1:3] < 0).all() and (logp[len(ids) - 3 : len(ids) - 1] < 0).all()
    assert int((logp != 0).sum()) == 4


def test_a_model_that_cannot_keep_positions_gets_the_full_logits(talking_model_dir, monkeypatch):
    model, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    monkeypatch.setattr(batch_module, "KEEP_POSITIONS_FROM_VOCAB", 0)
    forward = model.forward

    def int_only(*args, logits_to_keep=0, **kwargs):  # an older forward: logits_to_keep must be an int
        return forward(
            *args, logits_to_keep=0 if isinstance(logits_to_keep, torch.Tensor) else logits_to_keep, **kwargs
        )

    batch = build_batch(tokenizer, [((Message("user", "Say red."),), [5, 6])])
    expected = token_logprobs(model, batch)
    monkeypatch.setattr(model, "forward", int_only)
    monkeypatch.setattr(batch_module, "_NO_KEEP", set())
    got = token_logprobs(model, batch)
    assert torch.allclose(got, expected, atol=1e-6) and type(model) in batch_module._NO_KEEP
