"""ThinkTwice: its loss on a tiny batch against a hand computation, its refinement selection, one short run."""

from __future__ import annotations

import json
import math
import random

import pytest
import torch

import score_env.learner.rl as rl
from score_env.agents.thinktwice import ThinkTwiceAgentConfig, select_refinements, thinktwice_stage
from score_env.cli import main
from score_env.learner.rl import score_loss
from score_env.records import Attempt, Episode, EpisodeGroup, Grade
from score_env.training.checkpoint import checkpoint_path
from tests.agents.conftest import TINY_TRAIN

S = 1 / math.sqrt(2)  # GRPO's advantage of a group (0, 1) with k = 2: (r − 0.5) / √0.5
REWARDS = [(0, 1), (1, 1), (1, 1), (0, 0)]  # (r1, r2) of 2 problems x k = 2 episodes
LOGP = [(-1.0, -2.0), (-3.0, -4.0), (-5.0, -6.0), (-7.0, -8.0)]  # log π(attempt 1), log π(attempt 2)


def attempt(reward: int) -> Attempt:
    grade = Grade.ok("1") if reward else Grade.wrong("0")
    return Attempt((), "x", (1, 2), (0.0, 0.0), "stop", float(reward), grade)


def batch() -> list[EpisodeGroup]:
    episodes = [Episode(f"p{i // 2}", i // 2, i % 2, (attempt(r1), attempt(r2))) for i, (r1, r2) in enumerate(REWARDS)]
    return [EpisodeGroup(f"p{g}", g, tuple(episodes[2 * g : 2 * g + 2])) for g in range(2)]


@pytest.fixture
def fixed_logps(monkeypatch):
    """log π per attempt from LOGP (leaves with gradient), KL 0: the loss is then a hand computation."""
    leaves = [[torch.tensor(x, requires_grad=True) for x in row] for row in LOGP]

    def turn_terms(model, reference, tokenizer, turns, estimator):
        return leaves, [[torch.zeros(()) for _ in row] for row in leaves]

    monkeypatch.setattr(rl, "turn_terms", turn_terms)
    return leaves


def test_the_loss_is_grpo_on_each_turn_by_hand(fixed_logps):
    stage = thinktwice_stage(ThinkTwiceAgentConfig())
    result = score_loss(torch.nn.Linear(1, 1), None, None, batch(), stage)
    # solve turn: problem 0 has r1 = (0, 1) -> A = (−S, S); problem 1 has (1, 0) -> (S, −S)
    solve = -(-S * -1.0 + S * -3.0 + S * -5.0 - S * -7.0) / 4
    # refine turn: problem 0 has r2 = (1, 1) -> A = (0, 0); problem 1 has (1, 0) -> (S, −S)
    refine = -(S * -6.0 - S * -8.0) / 4
    assert result.attempt_losses[0].item() == pytest.approx(solve, abs=1e-5)
    assert result.attempt_losses[1].item() == pytest.approx(refine, abs=1e-5)
    assert result.loss.item() == pytest.approx(solve + refine, abs=1e-5)
    result.loss.backward()  # ∂L/∂log π(attempt) = −A / |S_t|
    assert fixed_logps[0][0].grad.item() == pytest.approx(S / 4, abs=1e-5)
    assert fixed_logps[1][1].grad.item() == pytest.approx(0.0, abs=1e-6)


def test_only_the_selected_refinements_are_trained_and_normalised(fixed_logps):
    stage = thinktwice_stage(ThinkTwiceAgentConfig())
    trained = torch.tensor([[True, False], [True, True], [True, True], [True, True]])
    result = score_loss(torch.nn.Linear(1, 1), None, None, batch(), stage, trained)
    # problem 0 keeps one refinement (r2 = 1): alone, it keeps its reward as advantage; problem 1: (S, −S); |S_2| = 3
    refine = -(1.0 * -4.0 + S * -6.0 - S * -8.0) / 3
    assert result.attempt_losses[1].item() == pytest.approx(refine, abs=1e-5)
    result.loss.backward()
    assert fixed_logps[0][1].grad is None or fixed_logps[0][1].grad.item() == 0.0  # not selected: no gradient


def test_no_kl_by_default():
    assert thinktwice_stage(ThinkTwiceAgentConfig()).betas == (0.0, 0.0)
    assert thinktwice_stage(ThinkTwiceAgentConfig()).baseline == "grpo"


@pytest.mark.parametrize(
    ("refine", "fraction", "expected"),
    [
        ("all", 1.0, [True] * 4),  # every first attempt is refined
        ("wrong_first", 0.5, [True, False, True, False]),  # the two wrong ones (episodes 0 and 2)
        ("wrong_first", 0.75, None),  # both wrong ones, and one right one drawn at random
        ("all", 0.5, None),  # two of four, uniformly
    ],
)
def test_select_refinements(refine, fraction, expected):
    first_correct = [False, True, False, True]
    chosen = select_refinements(first_correct, refine, fraction, random.Random(0))
    assert sum(chosen) == round(fraction * 4)
    if expected is not None:
        assert chosen == expected
    if refine == "wrong_first":
        assert chosen[0] and chosen[2]


def test_uniform_selection_reaches_right_and_wrong_first_attempts():
    first_correct = [False, True] * 4
    seen = {
        i
        for seed in range(20)
        for i, c in enumerate(select_refinements(first_correct, "all", 0.25, random.Random(seed)))
        if c
    }
    assert seen == set(range(8))


def test_one_short_run_changes_the_parameters(tiny_model_dir, tmp_path, changed):
    run_dir = tmp_path / "run"
    argv = ["train", "agent=thinktwice", f"model={tiny_model_dir}", f"run_dir={run_dir}", *TINY_TRAIN]
    assert main([*argv, "agent.steps=2", "agent.lr=1e-3", "agent.refine=wrong_first", "agent.refine_fraction=0.5"]) == 0
    assert changed(tiny_model_dir, checkpoint_path(run_dir, "last") / "model")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2 and {"reward@t1", "reward@t2", "delta", "refined", "loss"} <= set(records[0])
    assert all(r["refined"] == 0.5 for r in records)
