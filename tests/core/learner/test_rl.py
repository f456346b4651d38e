"""score_loss on a tiny model: which attempt's tokens get gradient from what (docs/paper.md, "Stage I")."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import pytest
import torch

from score_env.agents.score import ScoreAgentConfig, stages_for
from score_env.learner.reference import FrozenCopy
from score_env.learner.rl import score_loss
from score_env.learner.stages import Stage
from score_env.policies import SamplingParams
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Attempt, Episode, EpisodeGroup, Grade, GradeReason, flatten
from score_env.rollout import collect_episodes

K = 2


@pytest.fixture(scope="module")
def setup(tiny_model_dir):
    policy = TransformersPolicy.from_pretrained(str(tiny_model_dir))
    episodes = collect_episodes(
        lambda: gym.make("score/Arithmetic-v0", split="train"),
        policy,
        [0, 1],
        SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=6),
        samples_per_problem=K,
        seed=1,
    )
    return policy, FrozenCopy(policy.model), flatten(episodes)


def with_rewards(episodes, rewards):
    """The same episodes with the given (r1, r2) per episode."""
    out = []
    for episode, pair in zip(episodes, rewards, strict=True):
        attempts = tuple(
            replace(a, reward=r, grade=Grade.ok("1") if r else Grade.wrong("0"))
            for a, r in zip(episode.attempts, pair, strict=True)
        )
        out.append(replace(episode, attempts=attempts))
    return out


def groups(episodes):
    """Flat episodes back into their problems' groups (k = K here)."""
    return [
        EpisodeGroup(episodes[i].problem_id, episodes[i].problem_index, tuple(episodes[i : i + K]))
        for i in range(0, len(episodes), K)
    ]


def grad_norm(policy, loss) -> float:
    policy.model.zero_grad()
    loss.backward(retain_graph=True)
    return sum(p.grad.abs().sum().item() for p in policy.model.parameters() if p.grad is not None)


REWARDS = [(0, 1), (0, 0), (1, 1), (1, 0)]


def test_stage_one_attempt_one_gets_gradient_from_the_kl_only(setup):
    policy, reference, episodes = setup
    batch = with_rewards(episodes, REWARDS)
    no_kl = Stage("stage1", 1, (0.0, 1.0), (0.0, 0.01), 0.0)
    result = score_loss(policy.model, reference, policy.tokenizer, groups(batch), no_kl)
    assert grad_norm(policy, result.attempt_losses[0]) == 0.0  # β2 = 0: attempt 1 is not trained at all
    assert grad_norm(policy, result.attempt_losses[1]) > 0.0  # attempt 2 learns from r2

    with_kl = Stage("stage1", 1, (0.0, 1.0), (0.1, 0.01), 0.0)
    result = score_loss(policy.model, reference, policy.tokenizer, groups(batch), with_kl)
    assert grad_norm(policy, result.attempt_losses[0]) > 0.0  # β2 > 0: the KL trains attempt 1


def test_stage_one_ignores_the_first_attempts_reward(setup):
    policy, reference, episodes = setup
    stage1 = stages_for(ScoreAgentConfig(stage1_steps=1, stage2_steps=0))[0]
    flipped = [(1 - r1, r2) for r1, r2 in REWARDS]
    a = score_loss(policy.model, reference, policy.tokenizer, groups(with_rewards(episodes, REWARDS)), stage1)
    b = score_loss(policy.model, reference, policy.tokenizer, groups(with_rewards(episodes, flipped)), stage1)
    assert a.attempt_losses[0].item() == pytest.approx(b.attempt_losses[0].item())


def test_stage_two_trains_both_attempts_on_shaped_rewards(setup):
    policy, reference, episodes = setup
    stage2 = stages_for(ScoreAgentConfig(stage1_steps=0, stage2_steps=1))[0]
    result = score_loss(policy.model, reference, policy.tokenizer, groups(with_rewards(episodes, REWARDS)), stage2)
    assert grad_norm(policy, result.attempt_losses[0]) > 0 and grad_norm(policy, result.attempt_losses[1]) > 0
    assert result.metrics["return@t2"] == pytest.approx((11 + 0 + 1 - 10) / 4, abs=0.05)  # shaped, minus tiny KL


def test_base_model_first_attempts_are_context_only(setup):
    policy, reference, episodes = setup
    from_base = [replace(e, attempts=(replace(e.attempts[0], from_base=True), *e.attempts[1:])) for e in episodes]
    stage2 = stages_for(ScoreAgentConfig(stage1_steps=0, stage2_steps=1))[0]
    result = score_loss(policy.model, reference, policy.tokenizer, groups(with_rewards(from_base, REWARDS)), stage2)
    assert grad_norm(policy, result.attempt_losses[0]) == 0.0


def test_an_episode_graded_error_carries_no_reward_signal(setup):
    policy, reference, episodes = setup
    stage2 = stages_for(ScoreAgentConfig(stage1_steps=0, stage2_steps=1))[0]
    batch = with_rewards(episodes, REWARDS)
    broken = Grade(False, GradeReason.ERROR, None, "sandbox failed")
    errored = [
        *batch[:3],
        replace(batch[3], attempts=(batch[3].attempts[0], replace(batch[3].attempts[1], grade=broken))),
    ]
    result = score_loss(policy.model, reference, policy.tokenizer, groups(errored), stage2)
    assert result.metrics["errored"] == 1.0
    # the errored episode is out of the loss and out of its group's baseline: its partner has no peer left
    kept = score_loss(policy.model, reference, policy.tokenizer, [groups(batch)[0]], stage2)
    alone = score_loss(policy.model, reference, policy.tokenizer, [EpisodeGroup("p", 1, (batch[2],))], stage2)
    expected = (kept.loss.item() * 2 + alone.loss.item()) / 3
    assert result.loss.item() == pytest.approx(expected, rel=1e-4)


def test_the_policy_hands_over_the_prompt_ids_it_generated_from(setup):
    from score_env.learner.batch import encode

    policy, _, episodes = setup
    for attempt in (a for e in episodes for a in e.attempts):
        assert attempt.prompt_ids  # the learner does not tokenise again
        assert encode(policy.tokenizer, [(attempt.prompt, ())])[0][0] == list(attempt.prompt_ids)  # what it would get


def test_the_reference_is_frozen(setup):
    policy, reference, _ = setup
    assert all(not p.requires_grad for p in reference.model.parameters())
    assert reference.model is not policy.model
    assert torch.equal(next(reference.model.parameters()), next(policy.model.parameters()))


@pytest.mark.parametrize("keep_positions", [False, True], ids=["full-logits", "kept-positions"])
def test_reading_earlier_attempts_off_the_last_row_changes_nothing(talking_model_dir, monkeypatch, keep_positions):
    import score_env.learner.batch as batch
    import score_env.learner.terms as terms

    # Kept positions: the head runs on the loss spans only, so attempt 1's span inside the last row must be one.
    monkeypatch.setattr(batch, "KEEP_POSITIONS_FROM_VOCAB", 0 if keep_positions else 10**9)
    from score_env.policies.factory import load_policy
    from score_env.records import Message
    from tests.conftest import WORDS

    policy = load_policy(str(talking_model_dir))
    reference = FrozenCopy(policy.model)
    conversations = [(Message("user", f"Say {w}."),) for w in WORDS[:4]]
    first = policy.generate(conversations, SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12))
    episodes = []
    for conversation, (c1,) in zip(conversations, first, strict=True):
        second_prompt = (*conversation, Message("assistant", c1.text), Message("user", "Check it."))
        ((c2,),) = policy.generate([second_prompt], SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=12))
        attempts = tuple(
            Attempt(prompt, c.text, c.token_ids, c.logprobs, c.finish_reason, 0.0, Grade.wrong("x"))
            for prompt, c in ((conversation, c1), (second_prompt, c2))
        )
        episodes.append(Episode("p", 0, 0, attempts))
    turns = [e.attempts for e in episodes]
    rows, _ = terms._rows_and_spans(policy.tokenizer, turns)
    assert all(a.prompt_ids == () for e in episodes for a in e.attempts)  # built by hand: tokenised by the learner
    assert len(rows) == len(episodes)  # every first attempt was read off its episode's last row

    def stacked(logps, kls):
        return torch.stack([torch.stack(r) for r in logps]), torch.stack([torch.stack(r) for r in kls])

    fused = stacked(*terms.turn_terms(policy.model, reference, policy.tokenizer, turns, "sum"))
    monkeypatch.setattr(terms, "FUSE_TURNS", False)
    assert len(terms._rows_and_spans(policy.tokenizer, turns)[0]) == 2 * len(episodes)
    separate = stacked(*terms.turn_terms(policy.model, reference, policy.tokenizer, turns, "sum"))
    assert torch.allclose(fused[0], separate[0], atol=1e-4) and torch.allclose(fused[1], separate[1], atol=1e-5)
