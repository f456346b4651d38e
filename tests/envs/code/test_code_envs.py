"""score/HumanEval-v0 and score/MBPP-v0: data, prompts, code extraction, grading through the env."""

from __future__ import annotations

import gymnasium as gym
import pytest

from score_env.envs.code.extract import extract_code, syntax_error
from score_env.envs.code.prompts import CODE_CORRECTION_INSTRUCTION
from score_env.envs.code.tasks import humaneval_problems, make_mbpp_task, mbpp_rows


def test_humaneval_has_164_problems_and_the_papers_instruction():
    env = gym.make("score/HumanEval-v0", split="test")
    assert len(env.unwrapped.task.problems) == 164
    obs, _ = env.reset(options={"index": 0})
    assert humaneval_problems()[0].question.strip() in obs[0]["content"]
    solution = humaneval_problems()[0].metadata["canonical_solution"]
    obs, reward, terminated, _, info = env.step(f"Here you go:\n```python\n{solution}\n```")
    assert (reward, terminated, info["reason"]) == (1.0, False, "ok")
    assert obs[-1] == {"role": "user", "content": CODE_CORRECTION_INSTRUCTION}
    env.close()  # the env built its task: it ends the task's sandbox and judges
    assert CODE_CORRECTION_INSTRUCTION.startswith(
        "# There might be an error in the code above because of lack of understanding of the question."
    ) and CODE_CORRECTION_INSTRUCTION.endswith("Only output the final correct Python program!")


@pytest.mark.parametrize(
    ("split", "size", "first"), [("train", 374, 601), ("validation", 90, 511), ("test", 500, 11), ("prompt", 10, 1)]
)
def test_mbpp_standard_splits(split, size, first):
    problems = make_mbpp_task(split).problems
    assert len(problems) == size and problems[0].id == f"mbpp/{first}"


def test_mbpp_prompt_is_three_shot_with_tasks_2_3_4():
    task = make_mbpp_task("test")
    prompt = task.first_prompt(task.problems[0])[0].content
    rows = mbpp_rows()
    assert prompt.count("[BEGIN]") == 4 and prompt.count("[DONE]") == 3 and prompt.endswith("[BEGIN]")
    assert all(rows[i]["text"] in prompt for i in (2, 3, 4)) and task.problems[0].question in prompt


def test_mbpp_reference_solutions_pass_through_the_env():
    env = gym.make("score/MBPP-v0", split="test").unwrapped
    rows = mbpp_rows()
    for index in range(0, 500, 50):
        env.reset(options={"index": index})
        code = rows[11 + index]["code"]
        _, reward, _, _, info = env.step(f"{code}\n[DONE]")
        assert reward == 1.0, (index, info)
    env.close()


@pytest.mark.slow
def test_all_974_mbpp_reference_solutions_pass():
    from concurrent.futures import ThreadPoolExecutor

    problems = [p for split in ("prompt", "test", "validation", "train") for p in make_mbpp_task(split).problems]
    task = make_mbpp_task("train")
    with ThreadPoolExecutor(4) as pool:
        grades = list(pool.map(lambda p: task.grade(p, str(p.metadata["canonical_solution"])), problems))
    task.close()
    assert [p.id for p, g in zip(problems, grades, strict=True) if not g.correct] == []


@pytest.mark.parametrize(
    ("response", "code"),
    [
        ("```python\ndef f():\n    return 1\n```", "def f():\n    return 1"),  # a python fence
        ("```\nx = 1\n```", "x = 1"),  # a bare fence
        ("```python\na = 1\n```\nthen\n```python\ndef f():\n    pass\n```", "def f():\n    pass"),  # last fence
        ("```python\ndef f():\n    pass\n```\n```python\nprint(f())\n```", "def f():\n    pass"),  # the one with f
        ("def f():\n    return 2\n[DONE]", "def f():\n    return 2"),  # MBPP style
        ("x = 1", "x = 1"),  # raw code
        ("```python\ndef f():\n    return 3", "def f():\n    return 3"),  # unclosed fence at the end
        ("   ", None),  # nothing
    ],
)
def test_extract_code(response, code):
    assert extract_code(response, "f") == code


def test_syntax_errors_are_found_without_running_anything():
    assert syntax_error("def f(:\n") and syntax_error("x = (" * 1000) and syntax_error("a\x00b")
    assert syntax_error("def f():\n    return 1\n") is None


def test_eval_on_humaneval_with_a_tiny_model(tiny_model_dir, tmp_path):
    from score_env.cli import main
    from score_env.runs import read_episodes

    run_dir = tmp_path / "run"
    argv = [
        "eval",
        "agent=prompting",
        "env=humaneval",
        "limit=10",
        f"model={tiny_model_dir}",
        "sampling.max_new_tokens=16",
        f"run_dir={run_dir}",
        "bootstrap=50",
    ]
    assert main(argv) == 0
    assert len(read_episodes(run_dir / "episodes.jsonl")) == 10
