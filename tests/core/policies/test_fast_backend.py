"""The fast KV-cache backend against the reference backend: same greedy outputs, same log-probs."""

from __future__ import annotations

import pytest

from score_env.policies import SamplingParams
from score_env.policies.factory import load_policy, wrap_model
from score_env.policies.fast import FastPolicy, supports
from score_env.policies.transformers_backend import TransformersPolicy, load_model_and_tokenizer
from score_env.records import Message
from tests.conftest import WORDS

CONVERSATIONS = [(Message("user", f"Say {word}."),) for word in WORDS * 2] + [
    (Message("user", "Compute 3 + 4."),),
    (Message("user", "Say red."), Message("assistant", "red"), Message("user", "There might be an error.")),
]


@pytest.fixture(scope="module")
def pair(talking_model_dir):
    model, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    return TransformersPolicy(model, tokenizer, batch_size=64), FastPolicy(model, tokenizer, batch_size=64)


def test_greedy_outputs_and_logprobs_match_the_reference(pair):
    reference, fast = pair
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=24)
    expected, got = reference.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params)
    lengths = set()
    for (e,), (g,) in zip(expected, got, strict=True):
        assert g.token_ids == e.token_ids and g.text == e.text and g.finish_reason == e.finish_reason
        assert g.logprobs == pytest.approx(e.logprobs, abs=1e-4)
        lengths.add(len(g.token_ids))
    # The model stops at different lengths, so finished rows were dropped from the batch on the way.
    assert len(lengths) > 2 and any(g[0].finish_reason == "stop" for g in got)


def test_small_batches_and_compaction_do_not_change_greedy_outputs(pair):
    _, fast = pair
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=24)
    small = FastPolicy(fast.model, fast.tokenizer, batch_size=3)
    for (a,), (b,) in zip(small.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params), strict=True):
        assert a.token_ids == b.token_ids and a.logprobs == pytest.approx(b.logprobs, abs=1e-5)


def test_sampling_is_seeded_and_logprobs_are_the_models(pair, tiny_model_dir):
    _, fast = pair
    params = SamplingParams(temperature=1.0, top_p=0.9, max_new_tokens=16, n=3, seed=7)
    conversations = CONVERSATIONS[:4]
    first = fast.generate(conversations, params)
    assert first == fast.generate(conversations, params) and [len(r) for r in first] == [3] * 4
    untrained = FastPolicy(*load_model_and_tokenizer(str(tiny_model_dir)))  # unsure of everything: samples differ
    assert len({c.token_ids for c in untrained.generate(conversations[:1], params)[0]}) > 1
    # Teacher-forced log-probs of the sampled tokens under the model equal the recorded ones.
    import torch

    from score_env.learner.batch import build_batch, token_logprobs

    completion = first[1][0]
    batch = build_batch(fast.tokenizer, [(conversations[1], completion.token_ids)])
    with torch.no_grad():
        logp = token_logprobs(fast.model, batch)[0][batch.loss_mask[0].bool()]
    assert completion.logprobs == pytest.approx(logp.tolist(), abs=1e-4)


def test_stop_strings_end_a_completion_after_the_token_that_completes_them(pair):
    _, fast = pair
    out = fast.generate(CONVERSATIONS[:6], SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=24, stop=("k b",)))
    black = out[3][0]  # "black black black black" without the stop string
    assert (black.finish_reason == "stop" and black.text.endswith("k b")) or black.text.startswith("black b")
    head = fast.tokenizer.decode(list(black.token_ids[:-1]), skip_special_tokens=True)
    assert "k b" not in head  # nothing generated past the token that completed the stop string
    assert out[0][0].text == "red"  # rows without the stop string are untouched


def test_auto_picks_the_fast_backend_for_llama_models(talking_model_dir):
    assert isinstance(load_policy(str(talking_model_dir)), FastPolicy)
    assert isinstance(load_policy(str(talking_model_dir), backend="transformers"), TransformersPolicy)


def test_unsupported_architectures_fall_back_to_transformers(talking_model_dir):
    from transformers import GPT2Config, GPT2LMHeadModel

    _, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2))
    assert not supports(gpt2)
    assert isinstance(wrap_model(gpt2, tokenizer), TransformersPolicy)
    with pytest.raises(ValueError, match="supports"):
        FastPolicy(gpt2, tokenizer)


def test_qwen2_layout_with_qkv_biases_matches_the_reference(talking_model_dir):
    """Qwen2 (the family most self-correction RL trains) has q/k/v biases and grouped-query heads: the fast step
    fuses the biases like the weights, so greedy outputs and log-probs still match ``generate``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    _, tokenizer = load_model_and_tokenizer(str(talking_model_dir))
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # biases large enough to change every output if the fast step left them out
        for layer in model.model.layers:
            for projection in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                projection.bias.normal_(0.0, 0.5)
    assert supports(model) and isinstance(wrap_model(model, tokenizer), FastPolicy)
    reference, fast = TransformersPolicy(model, tokenizer), FastPolicy(model, tokenizer)
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=16)
    for (e,), (g,) in zip(reference.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params), strict=True):
        assert g.token_ids == e.token_ids
        assert g.logprobs == pytest.approx(e.logprobs, abs=1e-4)
    biased = [c.token_ids for (c,) in fast.generate(CONVERSATIONS, params)]
    with torch.no_grad():  # the check is sensitive: without the biases the outputs differ
        for layer in model.model.layers:
            for projection in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                projection.bias.zero_()
    assert [c.token_ids for (c,) in reference.generate(CONVERSATIONS, params)] != biased
