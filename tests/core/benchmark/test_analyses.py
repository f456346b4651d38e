"""The paper's analyses, on hand-made episodes and a scripted policy."""

from __future__ import annotations

import gymnasium as gym

from score_env.benchmark.analyses import correction_rate, inference_scaling, majority_correct
from score_env.benchmark.run import budgeted
from score_env.config import ScoreAgentConfig, SFTAgentConfig, StarAgentConfig
from score_env.config.benchmark import BenchmarkConfig
from score_env.records import Attempt, Episode, Grade
from tests.conftest import ScriptedPolicy, turn_of


def attempt(answer: str | None, correct: bool) -> Attempt:
    grade = Grade.ok(answer) if correct else (Grade.wrong(answer) if answer else Grade.unparsable())
    return Attempt((), "", (), (), "stop", grade.reward, grade)


def test_majority_vote_ignores_unparsable_answers():
    assert majority_correct([attempt("1", True), attempt("2", False), attempt("1", True)])
    assert not majority_correct([attempt("2", False), attempt("2", False), attempt("1", True)])
    assert majority_correct([attempt(None, False), attempt(None, False), attempt("1", True)])
    assert not majority_correct([attempt(None, False)])


def test_correction_rate_is_the_share_of_wrong_first_attempts_fixed():
    episodes = [
        Episode("p", 0, 0, (attempt("1", False), attempt("2", True))),
        Episode("p", 0, 1, (attempt("1", False), attempt("1", False))),
        Episode("p", 0, 2, (attempt("2", True), attempt("1", False))),
    ]
    assert correction_rate(episodes) == 0.5


def test_inference_scaling_votes_over_parallel_and_corrected_attempts():
    from score_env.envs.arithmetic import evaluate

    def script(conversation):  # first attempts are wrong, corrections are right
        expression = conversation[0].content.removeprefix("Compute ").split(".")[0]
        return "Answer: 9999" if turn_of(conversation) == 1 else f"Answer: {evaluate(expression)}"

    def make(attempts):
        return gym.make("score/Arithmetic-v0", split="test", max_attempts=attempts)

    curve = inference_scaling(
        ScriptedPolicy(script), make, [0, 1, 2], max_k=4, temperature=0.7, max_new_tokens=8, seed=0
    )
    assert curve == {"k": [1.0, 2.0, 4.0], "parallel": [0.0, 0.0, 0.0], "sequential": [1.0, 1.0, 1.0]}


def test_every_method_gets_the_same_budget():
    config = BenchmarkConfig(env="arithmetic", updates=30, problems_per_update=8, samples=4)
    score = budgeted(ScoreAgentConfig(), config)
    assert (score.stage1_steps, score.stage2_steps) == (15, 15)
    no_stage1 = budgeted(ScoreAgentConfig(stage1_steps=0), config)
    assert (no_stage1.stage1_steps, no_stage1.stage2_steps) == (0, 30)
    single = budgeted(ScoreAgentConfig(multi_turn=False), config)
    assert single.stage1_steps + single.stage2_steps == 30
    assert budgeted(SFTAgentConfig(), config).problems == 240  # 240 problems x k = 30 x 8 x 4 episodes
    assert budgeted(StarAgentConfig(iterations=3), config).problems == 80
