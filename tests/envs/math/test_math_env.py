"""score/MATH-v0: the data offline, the paper's prompts verbatim, filters, user files."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

from score_env.envs.math import make_task
from score_env.envs.math.data import SUBJECTS, load_problems
from score_env.envs.math.prompts import PAPER_CORRECTION_INSTRUCTION, PAPER_FIRST_PROMPT


def test_splits_are_the_12k_train_and_math500():
    train, test = load_problems("train"), load_problems("test")
    assert (len(train), len(test)) == (12_000, 500)
    assert not {p.question for p in train} & {p.question for p in test}
    assert test[0].id == "test/precalculus/807.json" and test[0].metadata == {"subject": "Precalculus", "level": 2}
    assert {p.metadata["subject"] for p in train} == set(SUBJECTS)


def test_filters_by_subject_and_level():
    problems = load_problems("test", subjects=["Geometry"], levels=[1, 2])
    assert problems and all(p.metadata["subject"] == "Geometry" and p.metadata["level"] in (1, 2) for p in problems)
    with pytest.raises(ValueError, match=r"unknown MATH subjects.*Allowed: Algebra"):
        load_problems("test", subjects=["Geometri"])
    with pytest.raises(ValueError, match="levels are 1-5"):
        load_problems("test", levels=[6])


def test_a_users_jsonl_file(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"problem": "1+1?", "answer": "2"}, {"problem": "2+2?", "solution": "It is $\\boxed{4}$."}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    problems = load_problems(path=str(path))
    assert [(p.question, p.reference) for p in problems] == [("1+1?", "2"), ("2+2?", "4")]
    path.write_text(json.dumps({"problem": "no answer"}))
    with pytest.raises(ValueError, match="row 0: need 'problem' and 'answer'"):
        load_problems(path=str(path))


def test_the_paper_prompts_verbatim():
    assert PAPER_FIRST_PROMPT.startswith("You are a math expert. When you respond, respond only with the Solution")
    assert PAPER_CORRECTION_INSTRUCTION.startswith(
        "There might be an error in the solution above because of lack of understanding of the question. Please "
        "correct the error, if any, and rewrite the solution. Only output the final solution!"
    )
    env = gym.make("score/MATH-v0", split="test")
    obs, _ = env.reset(options={"index": 0})
    assert obs[0]["content"].startswith(PAPER_FIRST_PROMPT) and load_problems("test")[0].question in obs[0]["content"]
    obs, reward, terminated, _, info = env.step(
        "Final Answer: The final answer is $(3, \\frac{\\pi}{2})$. I hope it is correct."
    )
    assert (reward, terminated, info["reason"]) == (1.0, False, "ok")
    assert obs[-1] == {"role": "user", "content": PAPER_CORRECTION_INSTRUCTION}
    env.close()  # the env built its task: it ends the grader's workers


def test_default_split_is_train_and_prompt_style_is_checked():
    assert len(gym.make("score/MATH-v0").unwrapped.task.problems) == 12_000
    assert "\\boxed{}" in make_task("test", prompt_style="boxed").correction_instruction
    with pytest.raises(ValueError, match="prompt_style"):
        make_task("test", prompt_style="fewshot")


def test_eval_on_math_with_a_tiny_model(tiny_model_dir, tmp_path):
    from score_env.cli import main
    from score_env.runs import read_episodes

    run_dir = tmp_path / "run"
    argv = [
        "eval",
        "agent=prompting",
        "env=math",
        "split=test",
        "limit=20",
        f"model={tiny_model_dir}",
        "sampling.max_new_tokens=16",
        f"run_dir={run_dir}",
        "bootstrap=50",
    ]
    assert main(argv) == 0
    episodes = read_episodes(run_dir / "episodes.jsonl")
    assert len(episodes) == 20 and (run_dir / "metrics.json").exists()
