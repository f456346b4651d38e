"""The transformers backend on a tiny model built locally (no network)."""

from __future__ import annotations

import pytest
import torch

from score_env.policies import Policy, SamplingParams
from score_env.policies.chat import render_plain, render_prompt
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Message

SHORT = (Message("user", "Compute 1 + 2."),)
LONG = (Message("user", "Compute 12 * 34 - 56 + 78. Show your steps, then end with 'Answer: <integer>'."),)
GREEDY = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12)


@pytest.fixture(scope="module")
def policy(tiny_model_dir) -> TransformersPolicy:
    return TransformersPolicy.from_pretrained(str(tiny_model_dir), batch_size=8)


def test_is_a_policy_in_float32(policy):
    assert isinstance(policy, Policy)
    assert next(policy.model.parameters()).dtype == torch.float32


def test_greedy_is_deterministic_and_unaffected_by_left_padding(policy):
    alone = policy.generate([SHORT], GREEDY)[0][0]
    batched = policy.generate([LONG, SHORT, LONG], GREEDY)[1][0]
    assert alone == policy.generate([SHORT], GREEDY)[0][0]
    assert batched.token_ids == alone.token_ids
    assert batched.logprobs == pytest.approx(alone.logprobs, abs=1e-4)


def test_logprobs_are_the_models_own_under_teacher_forcing(policy):
    completion = policy.generate([LONG], SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=10, seed=0))[0][0]
    prompt_ids = policy.tokenizer(render_prompt(policy.tokenizer, LONG), add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + list(completion.token_ids)])
    with torch.no_grad():
        logits = policy.model(ids).logits[0, len(prompt_ids) - 1 : -1]
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(completion.token_ids)[:, None]).squeeze(-1)
    assert completion.logprobs == pytest.approx(expected.tolist(), abs=1e-4)
    assert len(completion.token_ids) == len(completion.logprobs) <= 10


def test_n_samples_seeds_and_finish_reasons(policy):
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, n=3, seed=123)
    first = policy.generate([SHORT, LONG], params)
    assert [len(row) for row in first] == [3, 3]
    assert first == policy.generate([SHORT, LONG], params)  # same seed, same samples
    assert len({c.token_ids for c in first[0]}) > 1  # the n samples differ
    assert all(c.finish_reason in ("stop", "length") for row in first for c in row)
    for c in first[0]:
        assert (c.finish_reason == "stop") == (c.token_ids[-1] == policy.tokenizer.eos_token_id)


def test_seeding_does_not_disturb_the_callers_rng(policy):
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    policy.generate([SHORT], SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=4, seed=9))
    assert torch.rand(1) == expected


def test_chat_template_is_used_when_present_and_plain_text_otherwise(policy):
    conversation = (Message("user", "hi"), Message("assistant", "hello"), Message("user", "again"))
    assert render_prompt(policy.tokenizer, conversation).endswith("<|im_start|>assistant\n")

    class NoTemplate:
        chat_template = None

    assert render_prompt(NoTemplate(), conversation) == render_plain(conversation)
    assert render_plain(conversation) == "User: hi\n\nAssistant: hello\n\nUser: again\n\nAssistant:"


def test_bad_sampling_parameters_are_rejected():
    with pytest.raises(ValueError):
        SamplingParams(temperature=1.0, top_p=0.0, max_new_tokens=4)
    with pytest.raises(ValueError):
        SamplingParams(temperature=-1.0, top_p=1.0, max_new_tokens=4)
