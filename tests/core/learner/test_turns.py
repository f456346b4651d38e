"""turn_loss (verify-then-revise, the oracle track) on a tiny model, against the loss computed by hand."""

from __future__ import annotations

import pytest
import torch

from score_env.learner.reference import FrozenCopy
from score_env.learner.terms import turn_terms
from score_env.learner.turns import TurnStage, turn_loss
from score_env.policies import SamplingParams
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Attempt, Episode, EpisodeGroup, Grade, Message

SAMPLE = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=5, seed=0)


def turn(policy, prompt, reward: float) -> Attempt:
    ((c,),) = policy.generate([prompt], SAMPLE)
    grade = Grade.ok("x") if reward else Grade.wrong("x")
    return Attempt(prompt, c.text, c.token_ids, c.logprobs, c.finish_reason, reward, grade, prompt_ids=c.prompt_ids)


def test_turn_loss_by_hand(tiny_model_dir):
    policy = TransformersPolicy.from_pretrained(str(tiny_model_dir))
    reference = FrozenCopy(policy.model)
    with torch.no_grad():  # a policy that moved away from the reference, so the KL terms are not zero
        next(policy.model.parameters()).add_(0.05)
    ask = (Message("user", "Compute 1 + 2."),)
    a1 = turn(policy, ask, 0.0)  # episode 0: wrong, a right verdict ("wrong"), then right
    v1 = turn(policy, (*ask, Message("assistant", a1.text), Message("user", "Verdict?")), 1.0)
    a2 = turn(policy, (*v1.prompt, Message("assistant", v1.text), Message("user", "Again.")), 1.0)
    b1 = turn(policy, ask, 1.0)  # episode 1: right, a wrong verdict ("wrong"), then right again
    w1 = turn(policy, (*ask, Message("assistant", b1.text), Message("user", "Verdict?")), 0.0)
    b2 = turn(policy, (*w1.prompt, Message("assistant", w1.text), Message("user", "Again.")), 1.0)
    episodes = (Episode("p", 0, 0, (a1, a2), (v1,)), Episode("p", 0, 1, (b1, b2), (w1,)))
    stage = TurnStage("pag", verdict_weight=0.5, beta=0.01)
    result = turn_loss(policy.model, reference, policy.tokenizer, [EpisodeGroup("p", 0, episodes)], stage)

    logps, kls = turn_terms(policy.model, reference, policy.tokenizer, [[a1, v1, a2], [b1, w1, b2]], "sum")
    logp, kl = [x.item() for r in logps for x in r], [x.item() for r in kls for x in r]
    weights, rewards = [1, 0.5, 1, 1, 0.5, 1], [0, 1, 1, 1, 0, 1]
    returns = [w * r - 0.01 * k for w, r, k in zip(weights, rewards, kl, strict=True)]
    answers = {0: [returns[0], returns[2]], 1: [returns[3], returns[5]]}  # per episode
    baseline = [
        sum(answers[1]) / 2, returns[4], sum(answers[1]) / 2,  # episode 0: the other episode's same role
        sum(answers[0]) / 2, returns[1], sum(answers[0]) / 2,
    ]  # fmt: skip
    advantages = [g - b for g, b in zip(returns, baseline, strict=True)]
    expected = sum(-a * lp + 0.01 * k for a, lp, k in zip(advantages, logp, kl, strict=True)) / 6
    assert result.loss.item() == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert result.metrics["attempts"] == 2.0 and result.metrics["verdict_accuracy"] == 0.5
