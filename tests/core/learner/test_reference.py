"""The reference is the base model, for the KL terms and as a sampler (with LoRA: the adapter switched off)."""

from __future__ import annotations

import pytest
import torch

from score_env.agents.score import ScoreAgent, ScoreAgentConfig
from score_env.config import LoraConfig
from score_env.policies import SamplingParams
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Message
from score_env.training.run import add_lora
from score_env.training.session import TrainingSession

GREEDY = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=8)
CONVERSATIONS = [(Message("user", "Compute 1 + 2 * 3. End with 'Answer: <integer>'."),)]


def first_logprobs(policy) -> list[float]:
    return list(policy.generate(CONVERSATIONS, GREEDY)[0][0].logprobs)


@pytest.mark.parametrize("lora", [False, True])
def test_scores_base_first_attempts_come_from_the_base_model(lora, tiny_model_dir, tmp_path):
    if lora:
        pytest.importorskip("peft")
    base = TransformersPolicy.from_pretrained(str(tiny_model_dir))
    policy = TransformersPolicy.from_pretrained(str(tiny_model_dir))
    if lora:
        policy = add_lora(policy, LoraConfig(rank=4))
    session = TrainingSession.start(policy, lr=1e-3, run_dir=tmp_path, seed=0, checkpoint_every=10)
    with torch.no_grad():  # a trained policy: not the base model any more
        for name, parameter in policy.model.named_parameters():
            if parameter.requires_grad and (not lora or "lora_B" in name):
                parameter.add_(torch.randn_like(parameter) * 0.5)
    assert first_logprobs(policy) != pytest.approx(first_logprobs(base), abs=1e-4)
    agent = ScoreAgent(ScoreAgentConfig(base_first_attempt_fraction=0.5), policy)
    sampler = agent._base_sampler(session)
    assert first_logprobs(sampler) == pytest.approx(first_logprobs(base), abs=1e-4)
    assert first_logprobs(policy) != pytest.approx(first_logprobs(base), abs=1e-4)  # the adapter is back on after
