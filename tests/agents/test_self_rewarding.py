"""Self-rewarding correction: which sampled trajectories stage (a) keeps and fine-tunes on, stage (b)'s loss on a
tiny model against the loss computed by hand, and the budget rule."""

from __future__ import annotations

import pytest
import torch

from score_env.agents.self_rewarding import SelfRewardingAgentConfig, keep_trajectories, trajectory_examples
from score_env.config.agents import Budget
from score_env.learner.reference import FrozenCopy
from score_env.learner.terms import turn_terms
from score_env.learner.turns import turn_loss
from score_env.policies import SamplingParams
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.records import Attempt, Episode, EpisodeGroup, Grade, GradeReason, Message

ASK = (Message("user", "Compute 1 + 2."),)
RIGHT, WRONG = Grade.ok("3"), Grade.wrong("4")
SAID_RIGHT, SAID_WRONG = Grade.ok("correct"), Grade.wrong("correct")  # a verdict's grade: right about the attempt?


def fake(text: str, grade: Grade, prompt=ASK, tokens=(1,)) -> Attempt:
    return Attempt(prompt, text, tokens, (0.0,) * len(tokens), "stop", grade.reward, grade)


def episode(*turns: tuple[str, Grade]) -> Episode:
    """Turns in the order given: attempt 1, its verdict, attempt 2, ..."""
    made = [fake(text, grade, tokens=(i + 1,)) for i, (text, grade) in enumerate(turns)]
    return Episode("p", 0, 0, tuple(made[0::2]), tuple(made[1::2]))


@pytest.mark.parametrize(
    ("turns", "kept"),
    [
        # right answer, called right (the episode stops): every step right
        ((("3", RIGHT), ("Verdict: correct", SAID_RIGHT)), True),
        # wrong answer, called wrong, fixed: every step right
        ((("4", WRONG), ("Verdict: wrong", SAID_RIGHT), ("3", RIGHT)), True),
        # wrong answer, called wrong, not fixed: the last answer is wrong
        ((("4", WRONG), ("Verdict: wrong", SAID_RIGHT), ("5", WRONG)), False),
        # right answer called wrong, then right again: the verdict was wrong
        ((("3", RIGHT), ("Verdict: wrong", SAID_WRONG), ("3", RIGHT)), False),
        # wrong answer called right (the episode stops): the verdict and the answer are wrong
        ((("4", WRONG), ("Verdict: correct", SAID_WRONG)), False),
        # an unreadable verdict (the env revises), then right: the verdict is not right
        ((("4", WRONG), ("I am not sure.", Grade.unparsable("no verdict")), ("3", RIGHT)), False),
        # the attempt's grader failed: its verdict cannot be right, whatever the answer
        ((("3", RIGHT), ("Verdict: correct", Grade(False, GradeReason.ERROR, "correct", "judged: error"))), False),
        # three attempts: wrong, called wrong, wrong again, called wrong, fixed
        (
            (("4", WRONG), ("Verdict: wrong", SAID_RIGHT), ("5", WRONG), ("Verdict: wrong", SAID_RIGHT), ("3", RIGHT)),
            True,
        ),
    ],
)
def test_keep_trajectories_keeps_only_all_right_ones(turns, kept):
    e = episode(*turns)
    assert keep_trajectories([e]) == ([e] if kept else [])


def test_a_right_answer_with_no_verdict_is_not_a_trajectory():
    # a budget-truncated episode (an answer, no verdict, more attempts expected) never happens in the env; an
    # episode of two right attempts with no verdict between them is not a verify-then-revise trajectory
    e = Episode("p", 0, 0, (fake("3", RIGHT), fake("3", RIGHT)), ())
    assert keep_trajectories([e]) == []


def test_trajectory_examples_train_every_turn_but_a_wrong_answer():
    e = episode(("4", WRONG), ("Verdict: wrong", SAID_RIGHT), ("3", RIGHT))
    assert [r["target"] for r in trajectory_examples([e])] == [[2], [3]]  # the verdict, then the fix
    stop = episode(("3", RIGHT), ("Verdict: correct", SAID_RIGHT))
    assert [r["target"] for r in trajectory_examples([stop])] == [[1], [2]]  # the answer and its verdict
    assert trajectory_examples([e])[0]["prompt"] == [m.as_dict() for m in ASK]


def test_the_budget_splits_updates_and_episodes_between_the_stages():
    c = SelfRewardingAgentConfig().with_budget(Budget(updates=5, problems=4, samples=2))
    assert (c.sft_updates, c.sft_problems, c.rl_steps) == (2, 8, 3)  # 8x2 + 3x4x2 = 5x4x2 episodes
    one = SelfRewardingAgentConfig().with_budget(Budget(updates=1, problems=4, samples=2))
    assert (one.sft_updates, one.sft_problems, one.rl_steps) == (0, 0, 1)


SAMPLE = SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=5, seed=0)


def sampled(policy, prompt, grade: Grade) -> Attempt:
    ((c,),) = policy.generate([prompt], SAMPLE)
    return Attempt(
        prompt, c.text, c.token_ids, c.logprobs, c.finish_reason, grade.reward, grade, prompt_ids=c.prompt_ids
    )


def test_stage_b_loss_by_hand(tiny_model_dir):
    """Two episodes of different lengths: one stops on a right "correct" verdict, one revises after a right "wrong"
    verdict. Each turn's baseline is the mean return of the same role's turns in the problem's other episodes."""
    policy = TransformersPolicy.from_pretrained(str(tiny_model_dir))
    reference = FrozenCopy(policy.model)
    with torch.no_grad():  # a policy that moved away from the reference, so the KL terms are not zero
        next(policy.model.parameters()).add_(0.05)
    a1 = sampled(policy, ASK, RIGHT)  # episode 0: right, called right, stops
    v1 = sampled(policy, (*ASK, Message("assistant", a1.text), Message("user", "Verdict?")), SAID_RIGHT)
    b1 = sampled(policy, ASK, WRONG)  # episode 1: wrong, called wrong, fixed
    w1 = sampled(policy, (*ASK, Message("assistant", b1.text), Message("user", "Verdict?")), SAID_RIGHT)
    b2 = sampled(policy, (*w1.prompt, Message("assistant", w1.text), Message("user", "Again.")), RIGHT)
    episodes = (Episode("p", 0, 0, (a1,), (v1,)), Episode("p", 0, 1, (b1, b2), (w1,)))
    config = SelfRewardingAgentConfig(verdict_weight=0.5, beta=0.02)
    result = turn_loss(policy.model, reference, policy.tokenizer, [EpisodeGroup("p", 0, episodes)], config.rl_stage())

    logps, kls = turn_terms(policy.model, reference, policy.tokenizer, [[a1, v1], [b1, w1, b2]], "sum")
    logp, kl = [x.item() for r in logps for x in r], [x.item() for r in kls for x in r]
    weights, rewards = [1, 0.5, 1, 0.5, 1], [1, 1, 0, 1, 1]  # a1, v1 | b1, w1, b2
    g = [w * r - 0.02 * k for w, r, k in zip(weights, rewards, kl, strict=True)]
    baseline = [(g[2] + g[4]) / 2, g[3], g[0], g[1], g[0]]  # the other episode's answers, or its verdict
    advantages = [x - b for x, b in zip(g, baseline, strict=True)]
    expected = sum(-a * lp + 0.02 * k for a, lp, k in zip(advantages, logp, kl, strict=True)) / 5
    assert result.loss.item() == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert result.metrics["reward@t1"] == 0.5 and result.metrics["reward@final"] == 1.0
    assert result.metrics["attempts"] == 1.5 and result.metrics["verdict_accuracy"] == 1.0
