"""The rollout loop, driven by a scripted policy (no model)."""

from __future__ import annotations

import gymnasium as gym

from score_env.policies import SamplingParams
from score_env.records import Message
from score_env.rollout import collect_episodes
from tests.conftest import ScriptedPolicy, turn_of

GREEDY = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=16)


def arithmetic_env():
    return gym.make("score/Arithmetic-v0", split="test")


def solve_on_second_try(conversation):
    # Wrong first, right second: read the expression back out of the first prompt.
    from score_env.envs.arithmetic import evaluate

    expression = conversation[0].content.removeprefix("Compute ").split(".")[0]
    return "Answer: 9999" if turn_of(conversation) == 1 else f"Answer: {evaluate(expression)}"


def test_one_generation_call_per_turn_over_every_episode():
    policy = ScriptedPolicy(solve_on_second_try)
    groups = collect_episodes(arithmetic_env, policy, [0, 1, 2], GREEDY, samples_per_problem=4)
    assert len(policy.calls) == 2
    assert [len(convs) for convs, _ in policy.calls] == [12, 12]
    assert all(params.n == 1 for _, params in policy.calls)
    # one group per problem; k is the group's size
    assert [(g.problem_index, [e.sample for e in g.episodes]) for g in groups] == [(i, [0, 1, 2, 3]) for i in range(3)]
    assert all(e.problem_index == g.problem_index for g in groups for e in g.episodes)


def test_records_carry_prompt_text_tokens_reward_and_grade_per_attempt():
    ((episode,),) = [
        g.episodes for g in collect_episodes(arithmetic_env, ScriptedPolicy(solve_on_second_try), [5], GREEDY)
    ]
    first, second = episode.attempts
    assert episode.problem_id == "arithmetic/test/5"
    assert (first.reward, first.grade.reason, second.reward, second.grade.correct) == (0.0, "wrong", 1.0, True)
    assert first.prompt == (first.prompt[0],) and first.prompt[0].role == "user"
    assert second.prompt[:2] == (first.prompt[0], Message("assistant", first.text))
    assert second.prompt[2].role == "user" and "There might be an error" in second.prompt[2].content
    assert first.token_ids == tuple(ord(c) for c in first.text) and len(first.logprobs) == len(first.token_ids)


def test_more_attempts_mean_more_turns():
    def make():
        return gym.make("score/Arithmetic-v0", split="test", max_attempts=4)

    policy = ScriptedPolicy(lambda c: "Answer: 1")
    ((episode,),) = [g.episodes for g in collect_episodes(make, policy, [0], GREEDY)]
    assert len(episode.attempts) == 4 and len(policy.calls) == 4


def test_turn_seeds_differ_and_are_reproducible():
    seeds = []
    for _ in range(2):
        policy = ScriptedPolicy(lambda c: "Answer: 1")
        collect_episodes(arithmetic_env, policy, [0], GREEDY, seed=3)
        seeds.append([params.seed for _, params in policy.calls])
    assert seeds[0] == seeds[1] and seeds[0][0] != seeds[0][1]


def test_a_batch_with_many_grading_errors_stops_the_run():
    import pytest

    from score_env.records import Problem
    from score_env.rollout import GradingFailed
    from score_env.task import PromptTask

    def broken(problem, response):
        raise RuntimeError("the sandbox is down")

    task = PromptTask("broken", [Problem(str(i), "q", "a") for i in range(4)], lambda p: p.question, "again", broken)
    from score_env.env import SelfCorrectionEnv

    with pytest.raises(GradingFailed, match=r"8 of 8 attempts in one batch were graded 'error'.*the sandbox is down"):
        collect_episodes(lambda: SelfCorrectionEnv(task), ScriptedPolicy(lambda c: "a"), [0, 1, 2, 3], GREEDY)
