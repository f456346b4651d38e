"""The MATH grader works however the host program was started (issue #12), and no grading call can hang.

Each way runs for real, in a subprocess: a script without a main guard, ``python - < script.py``, ``python -c``, and
an IPython shell running the code as a cell (what a notebook kernel does). multiprocessing's spawn and forkserver
workers re-ran the host's main module, so the first two graded every answer ``error`` (or hung).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from score_env.envs.math.grader import MathGrader
from score_env.records import GradeReason

# Steps score/MATH-v0 with the first MATH-500 reference solutions; no `if __name__ == "__main__":` on purpose.
SCRIPT = """
import json
import gymnasium as gym
import score_env.envs
from score_env.envs.math.data import vendored_lines

rows = [json.loads(line) for line in vendored_lines("test")[:3]]
env = gym.make("score/MATH-v0", split="test", timeout_s=60)
results = []
for index, row in enumerate(rows):
    env.reset(options={"index": index})
    _, reward, _, _, info = env.step(row["solution"])
    results.append(f"{reward}:{info['reason']}")
print("RESULTS", " ".join(results))
"""
EXPECTED = "RESULTS 1.0:ok 1.0:ok 1.0:ok"


def _run(argv: list[str], tmp_path: Path, stdin: str | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    return done.stdout + done.stderr


def test_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "grade.py"
    script.write_text(SCRIPT)
    assert EXPECTED in _run([sys.executable, str(script)], tmp_path)


def test_python_dash_reading_the_script_from_stdin(tmp_path):
    assert EXPECTED in _run([sys.executable, "-"], tmp_path, stdin=SCRIPT)


def test_python_dash_c(tmp_path):
    assert EXPECTED in _run([sys.executable, "-c", SCRIPT], tmp_path)


def test_a_notebook_cell_in_an_ipython_shell(tmp_path):
    pytest.importorskip("IPython")
    shell = "from IPython.core.interactiveshell import InteractiveShell\nshell = InteractiveShell.instance()\n"
    cell = f"{shell}shell.run_cell({SCRIPT!r})"
    assert EXPECTED in _run([sys.executable, "-c", cell], tmp_path)


def test_a_worker_that_does_not_start_is_an_error_within_its_bound():
    # A worker command that never says "ready": the call returns `error` once start_timeout_s has passed.
    grader = MathGrader(workers=1, start_timeout_s=0.5, command=[sys.executable, "-c", "import time; time.sleep(60)"])
    grade = grader.grade("1", "\\boxed{1}")
    assert grade.reason is GradeReason.ERROR and "did not start within 0.5 s" in grade.detail
    grader.close()


def test_a_worker_that_dies_mid_check_is_an_error_and_is_replaced():
    grader = MathGrader(workers=1, timeout_s=30)
    try:
        grader.start()
        worker = grader._slots.queue[0]
        worker.proc.kill()  # as if the OOM killer took it during a check
        time.sleep(0.1)
        grade = grader._check(worker, "1", "1")
        assert grade.reason is GradeReason.ERROR and "died" in grade.detail
        assert grader.grade("2", "\\boxed{2}").correct  # a fresh worker took the slot
    finally:
        grader.close()
