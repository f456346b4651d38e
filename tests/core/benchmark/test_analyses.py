"""The paper's analyses, on hand-made episodes and a scripted policy."""

from __future__ import annotations

import gymnasium as gym

from score_env.benchmark.analyses import correction_rate, inference_scaling, majority_correct
from score_env.benchmark.results import ScalingCurve
from score_env.policies import SamplingParams
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


def test_inference_scaling_votes_over_parallel_and_corrected_attempts(tmp_path):
    from score_env.envs.arithmetic import evaluate

    def script(conversation):  # first attempts are wrong, corrections are right
        expression = conversation[0].content.removeprefix("Compute ").split(".")[0]
        return "Answer: 9999" if turn_of(conversation) == 1 else f"Answer: {evaluate(expression)}"

    def make(attempts):
        return gym.make("score/Arithmetic-v0", split="test", max_attempts=attempts)

    sampling = SamplingParams(temperature=0.7, top_p=1.0, max_new_tokens=8)
    curve = inference_scaling(
        ScriptedPolicy(script), make, [0, 1, 2], max_k=4, sampling=sampling, seed=0, run_dir=tmp_path
    )
    assert curve == ScalingCurve((1, 2, 4), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
