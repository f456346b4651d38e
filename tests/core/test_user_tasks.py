"""A task defined in a file outside the repository runs from the command line with ``import=``."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

TASK = """
from score_env import Grade, Problem, PromptTask, register_task


def make_echo_task(split: str = "train", word: str = "blue") -> PromptTask:
    return PromptTask(
        name="echo",
        problems=[Problem(f"echo/{i}", f"Say {word}.", word) for i in range(3)],
        render_prompt=lambda p: p.question,
        correction_instruction="There might be an error above. Say it again.",
        grade_response=lambda p, r: Grade.ok(r.strip()) if r.strip() == p.reference else Grade.wrong(r.strip()),
    )


register_task("score/Echo-v0", make_echo_task, short_name="echo", description="Say a word back")
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "my_tasks.py").write_text(TASK)
    return tmp_path


def score_env_command() -> list[str]:
    """The installed console script (it does not put the working directory on the path, unlike python -m)."""
    script = shutil.which("score-env")
    return [script] if script else [sys.executable, "-m", "score_env"]


def test_envs_lists_a_task_imported_from_the_working_directory(project):
    done = subprocess.run(
        [*score_env_command(), "envs", "import=my_tasks"], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "score/Echo-v0 (echo" in done.stdout and "word: str = 'blue'" in done.stdout


def test_eval_runs_a_task_defined_outside_the_repository(project):
    command = [*score_env_command(), "eval", "import=my_tasks", "env=echo", "split=test", "model=embedded"]
    done = subprocess.run(
        [*command, "sampling.max_new_tokens=4", "bootstrap=10", f"run_dir={project / 'run'}"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "3 episodes over 3 problems" in done.stdout
    assert (project / "run" / "episodes.jsonl").read_text().count("echo/") == 3


def test_a_missing_module_is_one_line(project):
    done = subprocess.run(
        [*score_env_command(), "eval", "import=my_taskz", "model=embedded"], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 2 and "import='my_taskz': No module named 'my_taskz'" in done.stderr
    assert "Traceback" not in done.stderr
