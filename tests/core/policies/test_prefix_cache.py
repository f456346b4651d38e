"""Attempt 2 reuses attempt 1's cache: the same tokens as a full prefill, and never a cache of other weights."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from score_env.assets import embedded_model_path
from score_env.policies import SamplingParams
from score_env.policies.fast import FastPolicy
from score_env.policies.prefix_cache import Entry, PrefixStore
from score_env.policies.transformers_backend import load_model_and_tokenizer
from score_env.registry import EnvFactory
from score_env.rollout import collect_episodes

PROBLEMS = list(range(24))


@pytest.fixture(scope="module")
def embedded():
    return load_model_and_tokenizer(str(embedded_model_path()))


def play(policy, temperature: float, problems=PROBLEMS):
    make = partial(EnvFactory("score/Arithmetic-v0", "test").open(), 2)  # arithmetic holds nothing to close
    groups = collect_episodes(make, policy, problems, SamplingParams(temperature, 1.0, 128), seed=5)
    return [a for g in groups for e in g.episodes for a in e.attempts]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_every_token_is_the_full_prefills_and_log_probs_agree_to_float_tolerance(embedded, temperature):
    full = play(FastPolicy(*embedded, batch_size=16, reuse_cache=False), temperature)
    policy = FastPolicy(*embedded, batch_size=16)
    reused = play(policy, temperature)
    assert policy.reused_tokens > 24 * 30  # attempt 2 of every episode took problem + attempt 1 from the store
    assert [a.token_ids for a in reused] == [a.token_ids for a in full]
    assert [a.prompt_ids for a in reused] == [a.prompt_ids for a in full]
    for a, b in zip(reused, full, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)


def test_a_bounded_store_keeps_what_fits_and_the_tokens_do_not_change(embedded):
    """Rows past the bound are not stored: their batches prefill in full, with the same tokens."""
    full = play(FastPolicy(*embedded, batch_size=8, reuse_cache=False), 1.0)
    policy = FastPolicy(*embedded, batch_size=8)
    reused_all = play(policy, 1.0)
    everything = policy.reused_tokens
    policy = FastPolicy(*embedded, batch_size=8)
    policy.store.max_bytes = 3_000_000  # about a batch of attempt-1 rows (4 KiB per token)
    bounded = play(policy, 1.0)
    assert 0 < len(policy.store) < 24 and 0 < policy.reused_tokens < everything
    assert [a.token_ids for a in bounded] == [a.token_ids for a in reused_all] == [a.token_ids for a in full]
    policy.store.max_bytes = 0
    play(policy, 1.0)
    assert len(policy.store) == 0


def test_a_weight_update_empties_the_store(embedded):
    model, tokenizer = load_model_and_tokenizer(str(embedded_model_path()))  # its own copy: this test changes it
    policy = FastPolicy(model, tokenizer, batch_size=16)
    params = SamplingParams(0.0, 1.0, 32)
    first = policy.generate([_conversation("Compute 3 + 4.")], params)[0][0]
    assert len(policy.store) == 1
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.weight.mul_(1.5)  # in place, as an optimizer step
    follow = _conversation("Compute 3 + 4.", first.text, "Check it.")
    before = policy.reused_tokens
    got = policy.generate([follow], params)[0][0]
    assert policy.reused_tokens == before  # nothing was taken from a cache of the old weights
    fresh = FastPolicy(model, tokenizer, batch_size=16, reuse_cache=False).generate([follow], params)[0][0]
    assert got.token_ids == fresh.token_ids


def test_a_batch_reuses_only_when_every_row_extends_a_stored_one(embedded):
    policy = FastPolicy(*embedded, batch_size=16)
    params = SamplingParams(0.0, 1.0, 32)
    first = policy.generate([_conversation("Compute 3 + 4.")], params)[0][0]
    extended = _conversation("Compute 3 + 4.", first.text, "Check it.")
    policy.generate([extended, _conversation("Compute 9 - 2.")], params)  # the second row has no stored prefix
    assert policy.reused_tokens == 0
    policy.generate([_conversation("Compute 3 + 4.")], params)
    policy.generate([extended], params)
    assert policy.reused_tokens >= len(first.prompt_ids)


def test_the_store_finds_the_longest_stored_prefix_and_keeps_one_call():
    store = PrefixStore()
    empty = (torch.zeros(1, 0, 2),)
    store.begin(torch.nn.Linear(1, 1))
    store.add(Entry((1, 2), 2, empty, empty))
    store.add(Entry((1, 2, 3, 4), 3, empty, empty))
    store.end()
    assert store.find([1, 2, 3, 4, 5]).tokens == (1, 2, 3, 4)
    assert store.find([1, 2, 3]).tokens == (1, 2)
    assert store.find([1, 2]) is None and store.find([7, 1, 2, 3]) is None  # a prefix must be shorter and first
    store.begin(torch.nn.Linear(1, 1))  # a new call's rows replace the last call's
    store.end()
    assert len(store) == 0


def _conversation(*turns: str):
    from score_env.records import Message

    return tuple(Message("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(turns))


def test_the_policy_config_turns_it_off():
    from score_env.assets import resolve_model
    from score_env.config.policy import PolicyConfig

    assert PolicyConfig().load(resolve_model("embedded")).store is not None
    assert PolicyConfig(reuse_cache=False).load(resolve_model("embedded")).store is None
