"""What every adapter shares (no engine package needed): the env choice, one episode attempt by attempt, metrics."""

from __future__ import annotations

import json

import pytest

from score_env.adapters.episode import (
    EnvChoice,
    EpisodeSession,
    GradingError,
    episode_metrics,
    problem_prompts,
    reward_components,
)
from score_env.records import Grade
from score_env.registry import UnknownNameError
from score_env.text import escape_surrogates
from tests.adapters.harness import PROBE_ENV, PROBE_INSTRUCTION, PROBE_PROBLEMS, reference
from tests.hostile import HOSTILE


def test_env_choice_takes_short_names_and_rejects_unknown_names_and_splits():
    assert EnvChoice("arithmetic", "test").spec().env_id == "score/Arithmetic-v0"
    with pytest.raises(UnknownNameError, match="Did you mean 'arithmetic'"):
        EnvChoice("arithmetc").spec()
    with pytest.raises(ValueError, match="Allowed: test"):
        EnvChoice("humaneval", "train").spec()
    with pytest.raises(ValueError, match="max_attempts"):
        EnvChoice("arithmetic", max_attempts=0).spec()
    with pytest.raises(ValueError, match="stop must be one of fixed, model_decides"):
        EnvChoice("arithmetic", stop="on_correct").spec()  # the grader's verdict ends it: oracle, not an adapter's


def test_env_choice_passes_the_task_arguments():
    env = EnvChoice("arithmetic", "test", env_kwargs={"digits": 3, "size": 5}).make()
    assert len(env.unwrapped.task.problems) == 5 and env.unwrapped.feedback == "intrinsic"


def test_a_step_returns_only_what_the_model_is_shown_next():
    session = EpisodeSession(EnvChoice(PROBE_ENV, "test", max_attempts=2))
    first = session.reset(index=1)
    assert first == ({"role": "user", "content": "Say the word blue."},)
    result = session.step("blue")
    assert result.new_messages == ({"role": "user", "content": PROBE_INSTRUCTION},)
    assert (result.reward, result.done, result.attempt, result.problem_id) == (1.0, False, 1, "probe/1")
    assert result.info() == {
        "correct": True,
        "reason": "ok",
        "extracted": "blue",
        "detail": "",
        "turn": "attempt",
        "attempt": 1,
        "problem_id": "probe/1",
    }
    last = session.step("BLUE")
    assert (last.new_messages, last.reward, last.done, last.grade.reason) == ((), 0.0, True, "wrong")
    assert session.messages[-1] == {"role": "assistant", "content": "BLUE"}
    assert session.metrics() == {
        **{"acc@t1": 1.0, "acc@t2": 0.0, "delta": -1.0, "delta_i_to_c": 0.0, "delta_c_to_i": 1.0},
        **{"attempt_1": 1.0, "attempt_2": 0.0, "verdicts": 0.0},  # each attempt's reward by name
    }


def test_verify_then_revise_steps_through_verdict_turns_each_with_its_own_reward():
    session = EpisodeSession(EnvChoice(PROBE_ENV, "test", max_attempts=3, stop="model_decides"))
    assert session.choice.max_turns == 5
    session.reset(index=1)
    first = session.step("BLUE")  # wrong
    assert (first.turn, first.reward, first.done) == ("attempt", 0.0, False)
    assert "Verdict: correct" in first.new_messages[0]["content"]  # the verification instruction, whatever the grade
    verdict = session.step("Verdict: wrong")  # right about it: rewarded, and the model revises
    assert (verdict.turn, verdict.attempt, verdict.reward, verdict.done) == ("verdict", 1, 1.0, False)
    assert verdict.new_messages == ({"role": "user", "content": PROBE_INSTRUCTION},)
    assert verdict.info()["turn"] == "verdict"
    session.step("blue")  # right
    last = session.step("Verdict: correct")  # right again; its own verdict ends the episode before attempt 3
    assert (last.turn, last.attempt, last.reward, last.done, last.new_messages) == ("verdict", 2, 1.0, True, ())
    assert session.metrics() == {
        **{"acc@t1": 0.0, "acc@t2": 1.0, "acc@t3": 1.0, "delta": 1.0, "delta_i_to_c": 1.0, "delta_c_to_i": 0.0},
        **{"attempt_1": 0.0, "attempt_2": 1.0, "attempt_3": 0.0, "verdicts": 2.0},  # attempt 3 was never made
    }


def test_an_error_grade_raises_and_ends_the_episode_instead_of_scoring_zero():
    session = EpisodeSession(EnvChoice(PROBE_ENV, "test"))
    session.reset(index=0)
    with pytest.raises(
        GradingError, match=r"attempt 1 of problem 'probe/0' failed \(RuntimeError: the probe grader"
    ) as e:
        session.step("CRASH")
    assert (e.value.problem_id, e.value.attempt) == ("probe/0", 1)
    assert session.grades == []  # nothing was scored
    with pytest.raises(RuntimeError, match="call reset"):
        session.step("red")
    session.reset(index=0)  # a new episode works again
    assert session.step("red").reward == 1.0


def test_problem_prompts_are_the_first_prompts_of_the_split():
    prompts = problem_prompts(EnvChoice(PROBE_ENV, "test"), [2, 0])
    assert [(p.index, p.problem_id) for p in prompts] == [(2, "probe/2"), (0, "probe/0")]
    assert prompts[0].prompt == ({"role": "user", "content": f"Say the word {PROBE_PROBLEMS[2].reference}."},)
    assert len(problem_prompts(EnvChoice(PROBE_ENV, "test"))) == len(PROBE_PROBLEMS)


@pytest.mark.parametrize(
    ("correct", "expected"),
    [
        ((True, True), {"acc@t1": 1, "acc@t2": 1, "delta": 0, "delta_i_to_c": 0, "delta_c_to_i": 0}),  # kept
        ((False, True), {"acc@t1": 0, "acc@t2": 1, "delta": 1, "delta_i_to_c": 1, "delta_c_to_i": 0}),  # fixed
        ((True, False), {"acc@t1": 1, "acc@t2": 0, "delta": -1, "delta_i_to_c": 0, "delta_c_to_i": 1}),  # broken
        (
            (False, True, False),
            {"acc@t1": 0, "acc@t2": 1, "acc@t3": 0, "delta": 0, "delta_i_to_c": 0, "delta_c_to_i": 0},
        ),
        ((), {}),  # no attempt yet
    ],
)
def test_episode_metrics(correct, expected):
    grades = [Grade.ok("x") if c else Grade.wrong("y") for c in correct]
    assert episode_metrics(grades) == expected


def test_episode_metrics_judge_an_episode_that_stopped_early_by_its_last_answer():
    # verify-then-revise: right at attempt 1, the verdict said "correct", so the answer stands at attempts 2 and 3
    assert episode_metrics([Grade.ok("x")], max_attempts=3) == {
        **{"acc@t1": 1.0, "acc@t2": 1.0, "acc@t3": 1.0},
        **{"delta": 0.0, "delta_i_to_c": 0.0, "delta_c_to_i": 0.0},
    }


RIGHT, WRONG, UNPARSABLE = Grade.ok("x"), Grade.wrong("y"), Grade.unparsable("no answer")


@pytest.mark.parametrize(
    ("attempts", "verdicts", "expected"),
    [
        ((RIGHT, RIGHT), (), (1, 1, 0)),  # right twice: 2 in all
        ((WRONG, RIGHT), (), (0, 1, 0)),  # wrong on purpose, then fixed: 1, never more than right twice
        ((RIGHT, WRONG), (), (1, 0, 0)),  # broken
        ((UNPARSABLE, WRONG), (), (0, 0, 0)),
        ((RIGHT,), (RIGHT,), (1, 0, 1)),  # verify-then-revise: kept by its own right verdict; attempt 2 not made
        ((WRONG, RIGHT), (RIGHT,), (0, 1, 1)),  # said "wrong" about a wrong attempt, then fixed it
        ((RIGHT, RIGHT), (WRONG,), (1, 1, 0)),  # said "wrong" about a right attempt: that verdict earns nothing
    ],
)
def test_reward_components_name_each_attempts_reward_and_the_verdicts(attempts, verdicts, expected):
    components = reward_components(attempts, verdicts, max_attempts=2)
    assert components == dict(zip(("attempt_1", "attempt_2", "verdicts"), map(float, expected), strict=True))


@pytest.mark.parametrize("case_name", ["user-task-3-attempts", "verify-then-revise-3-attempts"])
def test_episode_metrics_and_rewards_average_to_the_core_metrics(case_name):
    from tests.adapters.harness import CASES, SCRIPTS

    case = CASES[case_name]
    episodes, metrics = reference(case, SCRIPTS[case_name])
    per_episode = [
        episode_metrics([a.grade for a in e.attempts], case.max_attempts)
        | reward_components([a.grade for a in e.attempts], [v.grade for v in e.verdicts], case.max_attempts)
        for e in episodes
    ]
    assert {k: sum(m[k] for m in per_episode) / len(per_episode) for k in metrics} == pytest.approx(metrics)


def test_a_grading_errors_message_shows_a_hostile_detail_escaped_and_the_error_keeps_it_whole():
    detail = HOSTILE["terminal escapes"] + HOSTILE["lone high surrogate"] + HOSTILE["megabyte line"]
    error = GradingError("probe/0", 1, detail)
    message = str(error)
    message.encode("utf-8")  # prints and serialises anywhere
    assert "\\x1b[2J" in message and "\\ud800" in message and "more characters)" in message
    assert len(message) < 2000 and error.detail == detail


def test_an_attempts_info_holds_a_lone_surrogate_escaped_so_any_engine_can_encode_it():
    session = EpisodeSession(EnvChoice(PROBE_ENV, "test"))
    session.reset(index=0)
    text = HOSTILE["lone high surrogate"] + HOSTILE["invalid UTF-8"] + HOSTILE["NUL bytes"]
    info = session.step(text).info()
    assert info["extracted"] == escape_surrogates(text.strip()) and "\x00" in info["extracted"]
    json.dumps(info, ensure_ascii=False).encode("utf-8")
    assert session.messages[-2] == {"role": "assistant", "content": text}  # the model's own text, exactly
