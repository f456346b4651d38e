"""Stages are data: SCoRe and its ablations are the same learner with other numbers."""

from __future__ import annotations

import pytest

from score_env.agents.score import ScoreAgentConfig, stages_for
from score_env.config import load_config
from score_env.config.commands import TrainConfig
from score_env.learner.stages import Stage, stage_at


def test_score_stages_with_the_paper_defaults():
    stage1, stage2 = stages_for(ScoreAgentConfig(stage1_steps=3, stage2_steps=5))
    assert stage1 == Stage("stage1", 3, (0.0, 1.0), (0.1, 0.01), 0.0)  # attempt 1: no reward, strong β2
    assert stage2 == Stage("stage2", 5, (1.0, 1.0), (0.01, 0.01), 10.0)  # both rewarded, α = 10


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("score", [("stage1", 50, 2, 0.0), ("stage2", 50, 2, 10.0)]),
        ("score_single_turn", [("single-turn", 100, 1, 0.0)]),
        ("score_no_stage1", [("stage2", 100, 2, 10.0)]),
        ("score_no_shaping", [("stage1", 50, 2, 0.0), ("stage2", 50, 2, 0.0)]),
    ],
)
def test_the_ablations_are_configs(agent, expected):
    config = load_config(TrainConfig, "train", [f"agent={agent}", "model=m"]).agent
    assert isinstance(config, ScoreAgentConfig)
    stages = stages_for(config)
    assert [(s.name, s.steps, s.attempts, s.alpha) for s in stages] == expected


def test_stage_at():
    stages = stages_for(ScoreAgentConfig(stage1_steps=2, stage2_steps=3))
    assert [stage_at(stages, step)[1].name for step in range(5)] == ["stage1"] * 2 + ["stage2"] * 3
    with pytest.raises(IndexError):
        stage_at(stages, 5)


def test_three_attempt_score_has_a_stage_one_per_extra_attempt():
    stages = stages_for(ScoreAgentConfig(attempts=3, stage1_steps=4, stage2_steps=2))
    assert [(s.name, s.steps, s.reward_weights, s.betas) for s in stages] == [
        ("stage1-t2", 2, (0.0, 1.0), (0.1, 0.01)),  # attempt 2 learns, attempt 1 held by β2
        ("stage1-t3", 2, (0.0, 0.0, 1.0), (0.1, 0.1, 0.01)),  # attempt 3 learns, 1 and 2 held
        ("stage2", 2, (1.0, 1.0, 1.0), (0.01, 0.01, 0.01)),
    ]
