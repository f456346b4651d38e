"""The generic two-attempt env: intrinsic by default, never ends early, any Unicode in and out."""

from __future__ import annotations

import gymnasium as gym
import pytest

from score_env.env import ORACLE_WRONG, SelfCorrectionEnv
from score_env.records import Grade, Problem
from score_env.task import PromptTask

PROBLEMS = [Problem(f"p{i}", f"What is {i} + {i}?", str(2 * i)) for i in range(5)]
INSTRUCTION = "There might be an error in the solution above. Please correct it."


def exact(problem: Problem, response: str) -> Grade:
    if not response.strip():
        return Grade.unparsable("empty")
    return Grade.ok(response.strip()) if response.strip() == problem.reference else Grade.wrong(response.strip())


def make(grade=exact, **kwargs) -> SelfCorrectionEnv:
    task = PromptTask("sums", PROBLEMS, lambda p: p.question, INSTRUCTION, grade)
    return SelfCorrectionEnv(task, **kwargs)


def test_reset_returns_the_first_prompt_as_chat_messages():
    env = make()
    obs, info = env.reset(seed=0, options={"index": 3})
    assert obs == ({"role": "user", "content": "What is 3 + 3?"},)
    assert info == {"problem_id": "p3", "index": 3, "attempt": 0}
    assert obs in env.observation_space


def test_reset_without_index_draws_from_np_random_deterministically():
    picks = [make().reset(seed=7)[1]["index"] for _ in range(3)]
    assert len(set(picks)) == 1
    assert {make().reset(seed=s)[1]["index"] for s in range(40)} == set(range(5))


def test_step_grades_and_appends_the_attempt_and_the_instruction():
    env = make()
    env.reset(options={"index": 2})
    obs, reward, terminated, truncated, info = env.step("4")
    assert (reward, terminated, truncated) == (1.0, False, False)
    assert info == {
        "correct": True,
        "reason": "ok",
        "extracted": "4",
        "detail": "",
        "turn": "attempt",
        "attempt": 1,
        "problem_id": "p2",
    }
    assert obs[1:] == ({"role": "assistant", "content": "4"}, {"role": "user", "content": INSTRUCTION})
    obs, reward, terminated, truncated, info = env.step("5")
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["reason"] == "wrong" and info["attempt"] == 2
    assert obs[-1] == {"role": "assistant", "content": "5"}


def test_attempt_two_observation_is_identical_whether_attempt_one_was_right_or_wrong():
    # Same response, graders that disagree: the env must not leak the verdict into what the model sees next.
    right = make(grade=lambda p, r: Grade.ok(r))
    wrong = make(grade=lambda p, r: Grade.wrong(r))
    observations = []
    for env in (right, wrong):
        env.reset(seed=1, options={"index": 0})
        obs, reward, terminated, truncated, _ = env.step("0")
        assert not terminated and not truncated  # never ends early, even on a correct first attempt
        observations.append((obs, reward))
    assert observations[0][0] == observations[1][0]
    assert observations[0][1] != observations[1][1]


def test_oracle_feedback_is_opt_in_and_says_so():
    env = make(feedback="oracle")
    env.reset(options={"index": 1})
    obs, *_ = env.step("3")
    assert obs[-1]["content"] == f"{ORACLE_WRONG} {INSTRUCTION}"


@pytest.mark.parametrize("max_attempts", [1, 2, 3, 5])
def test_terminates_exactly_after_max_attempts(max_attempts):
    env = make(max_attempts=max_attempts)
    env.reset(options={"index": 0})
    flags = [env.step("0")[2:4] for _ in range(max_attempts)]
    assert flags == [(False, False)] * (max_attempts - 1) + [(True, False)]
    with pytest.raises(gym.error.ResetNeeded):
        env.step("0")


def test_any_unicode_action_is_in_the_action_space_and_graded():
    env = make()
    env.reset(options={"index": 0})
    latex = "Final Answer: $\\frac{1}{2}$ — π ≈ 3.14 \\boxed{x^2} 中文 🙂"
    assert latex in env.action_space
    assert gym.spaces.Text(max_length=200).contains(latex) is False  # why we have our own space
    _, reward, *_, info = env.step(latex)
    assert reward == 0.0 and info["reason"] == "wrong"


def test_a_grader_that_raises_becomes_an_error_grade_not_a_crash():
    def broken(problem, response):
        raise RuntimeError("grader bug")

    env = make(grade=broken)
    env.reset(options={"index": 0})
    _, reward, _, _, info = env.step("0")
    assert reward == 0.0 and info["reason"] == "error" and "grader bug" in info["detail"]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda env: env.step("x"), gym.error.ResetNeeded),  # step before reset
        (lambda env: env.reset(options={"index": 99}), ValueError),
        (lambda env: env.reset(options={"index": "1"}), ValueError),
    ],
)
def test_misuse_fails_loudly(call, error):
    with pytest.raises(error):
        call(make())


def test_non_text_action_is_a_type_error():
    env = make()
    env.reset()
    with pytest.raises(TypeError, match="str"):
        env.step(42)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="max_attempts"):
        make(max_attempts=0)
    with pytest.raises(ValueError, match="feedback"):
        make(feedback="hint")


def test_render_ansi_shows_the_conversation():
    env = make(render_mode="ansi")
    env.reset(options={"index": 0})
    env.step("0")
    text = env.render()
    assert "[user]\nWhat is 0 + 0?" in text and "[assistant]\n0" in text


def test_model_decides_asks_for_a_verdict_and_revises_only_on_wrong():
    env = make(stop="model_decides", max_attempts=3)
    env.reset(options={"index": 2})
    obs, reward, terminated, _, info = env.step("5")  # wrong attempt
    assert (reward, terminated, info["turn"]) == (0.0, False, "attempt")
    assert "Verdict: correct" in obs[-1]["content"]  # the verification instruction
    obs, reward, terminated, _, info = env.step("Looks fine. Verdict: correct")  # wrong about a wrong attempt
    assert (reward, terminated, info["turn"], info["attempt"]) == (0.0, True, "verdict", 1)
    env.reset(options={"index": 2})
    env.step("5")
    obs, reward, terminated, _, _ = env.step("Hmm. Verdict: wrong")  # right about it: revise
    assert (reward, terminated) == (1.0, False) and obs[-1]["content"] == INSTRUCTION
    obs, reward, terminated, _, info = env.step("4")
    assert (reward, terminated, info["attempt"]) == (1.0, False, 2)
    env.step("no verdict here")  # unparsable: counts as wrong, so the model revises once more
    _, _, terminated, _, info = env.step("4")
    assert terminated and info["attempt"] == 3  # max_attempts ends it: no verdict after the last attempt


@pytest.mark.parametrize("verdict", ["Verdict: correct", "Verdict: wrong", "no verdict"])
def test_under_model_decides_whether_the_episode_goes_on_never_depends_on_the_grader(verdict):
    """Two episodes whose first attempts are right and wrong, with the same self-verdict text, continue or end
    identically, and the model sees the same thing next."""
    after = []
    for first in ("4", "5"):  # right, wrong
        env = make(stop="model_decides")
        env.reset(options={"index": 2})
        env.step(first)
        obs, _, terminated, truncated, _ = env.step(verdict)
        after.append((terminated, truncated, obs[2:]))
    assert after[0] == after[1]


def test_on_correct_ends_at_the_first_right_answer_and_only_with_oracle_feedback():
    env = make(stop="on_correct", feedback="oracle", max_attempts=4)
    env.reset(options={"index": 2})
    obs, _, terminated, _, _ = env.step("5")
    assert not terminated and obs[-1]["content"].startswith(ORACLE_WRONG)
    _, reward, terminated, _, info = env.step("4")
    assert (reward, terminated, info["attempt"]) == (1.0, True, 2)
    with pytest.raises(ValueError, match="only with feedback='oracle'"):
        make(stop="on_correct")
    with pytest.raises(ValueError, match="feedback='intrinsic'"):
        make(stop="model_decides", feedback="oracle")


@pytest.mark.parametrize(
    ("feedback", "stop"),
    [("intrinsic", "fixed"), ("oracle", "fixed"), ("intrinsic", "model_decides"), ("oracle", "on_correct")],
)
def test_check_env_passes_for_every_setting(feedback, stop):
    from gymnasium.utils.env_checker import check_env

    check_env(make(feedback=feedback, stop=stop, max_attempts=3), skip_render_check=True)
