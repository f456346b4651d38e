"""The verifiers 0.4 adapter (its v1 stack) with verifiers itself: the taskset loaded by id, rewards by name and their
sum, errors as failed episodes. ``test_verifiers_env.py`` tests the 0.2.1-0.3.x adapter; each skips under the other
release (``.ci/adapters.sh`` runs both: the venvs ``verifiers`` and ``verifiers@0.3``)."""

from __future__ import annotations

import asyncio

import pytest

from tests.adapters.conftest import require_engine

require_engine("verifiers")

import verifiers  # noqa: E402  (after the skip)

if hasattr(verifiers, "MultiTurnEnv"):
    pytest.skip(
        f"the verifiers 0.4 API (v1 only); verifiers {verifiers.__version__} is installed here (test_verifiers_env.py)",
        allow_module_level=True,
    )

import verifiers.v1 as vf  # noqa: E402

from score_env.adapters.verifiers_v1 import ScoreEnv, ScoreReplyHarness, ScoreTaskset  # noqa: E402
from tests.adapters.drivers.verifiers_v1_driver import TASKSET, load_env, run_episodes  # noqa: E402
from tests.adapters.harness import DELIBERATE, PROBE_ENV, RIGHT_TWICE, Case, scripted_turns  # noqa: E402

NAMES = ("attempt_1", "attempt_2", "verdicts")


def test_verifiers_loads_the_taskset_env_and_harness_by_the_taskset_id():
    env = load_env(Case("arithmetic", "test", 2, (0, 1, 2)))
    assert isinstance(env, ScoreEnv) and isinstance(env.taskset, ScoreTaskset)
    assert isinstance(vf.load_harness(env.config.agent_harnesses()["agent"]), ScoreReplyHarness)
    assert not env.config.agent.network_notice  # verifiers adds nothing to what the model is shown
    tasks = list(env.taskset)
    assert [(t.data.index, t.data.id, t.key) for t in tasks] == [
        (i, f"arithmetic/test/{i}", f"arithmetic/test/{i}") for i in range(3)
    ]
    assert tasks[0].data.prompt[0].content.startswith("Compute ")


def test_a_wrong_env_split_or_reward_name_fails_when_the_config_is_read():
    for taskset, match in (
        ({"env": "arithmetc"}, "Did you mean 'arithmetic'"),
        ({"env": "humaneval", "split": "train"}, "Allowed: test"),
        ({"reward_weights": {"final": 1.0}}, r"\['final'\], not rewards of this env; its rewards: attempt_1"),
    ):
        with pytest.raises(ValueError, match=match):
            vf.resolve_env_config({"taskset": {"id": TASKSET, **taskset}})


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_the_rollouts_reward_is_the_sum_by_name_and_a_deliberate_fix_earns_no_more_than_right_twice(stop):
    case = Case(PROBE_ENV, "test", 2, (0,), stop)
    (fix,) = run_episodes(case, scripted_turns(DELIBERATE[stop]))
    (keep,) = run_episodes(case, scripted_turns(RIGHT_TWICE[stop]))
    (fix_trace,), (keep_trace,) = fix.traces, keep.traces
    assert fix_trace.reward <= keep_trace.reward  # verifiers' one number: the weighted sum of the named rewards
    assert {name: fix_trace.rewards[name].score for name in NAMES} == {
        "attempt_1": 0.0,
        "attempt_2": 1.0,
        "verdicts": 1.0 if stop == "model_decides" else 0.0,
    }
    assert keep_trace.rewards["attempt_1"].score == 1.0
    for trace in (fix_trace, keep_trace):
        assert trace.reward == sum(trace.rewards[name].score for name in NAMES)  # weight 1 each
        assert trace.info["episode_complete"] and trace.metrics["acc@t2"] == 1.0


def test_reward_weights_reweigh_the_rewards_by_name():
    (episode,) = run_episodes(
        Case(PROBE_ENV, "test", 2, (0,)), scripted_turns(("red", "red")), reward_weights={"attempt_1": 0.5}
    )
    (trace,) = episode.traces
    assert (trace.rewards["attempt_1"].weight, trace.rewards["attempt_2"].weight, trace.reward) == (0.5, 1.0, 1.5)


def test_an_error_grade_fails_the_episode_instead_of_scoring_zero():
    for episode in run_episodes(Case(PROBE_ENV, "test", 2, (0, 1)), scripted_turns(("CRASH", "red"))):
        assert not episode.ok  # verifiers' failed episode: what training and --resume leave out
        (error,) = episode.errors
        assert "grading attempt 1 of problem" in error.message and "the probe grader crashed" in error.message
        assert all(not trace.rewards for trace in episode.traces)  # nothing scored the failed attempt


def test_a_task_whose_prompt_is_not_its_problems_fails_loudly():
    env = load_env(Case(PROBE_ENV, "test", 2, (0,)))
    (task,) = list(env.taskset)
    task = task.with_data(prompt=[vf.UserMessage(content="Say the word blue.")])  # problem 1's prompt on problem 0

    ctx = vf.ModelContext(model="scripted", client=vf.EvalClientConfig(api_key_var="SCORE_ENV_NO_KEY"))
    episode = asyncio.run(env.run_episode(task, ctx))  # it fails before any model call
    assert not episode.ok and "not the first prompt of problem 0" in episode.errors[0].message
