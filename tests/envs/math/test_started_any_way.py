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


SHELL = "from IPython.core.interactiveshell import InteractiveShell\nshell = InteractiveShell.instance()\n"
WAYS = {
    "script": lambda path: ([sys.executable, str(path)], None),  # a file without a main guard
    "stdin": lambda path: ([sys.executable, "-"], path),  # python - < script.py
    "dash_c": lambda path: ([sys.executable, "-c", SCRIPT], None),  # python -c
    "notebook": lambda path: ([sys.executable, "-c", f"{SHELL}shell.run_cell({SCRIPT!r})"], None),  # a kernel's cell
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, subprocess.Popen]:
    """All four ways started at once (each is mostly waiting on imports): name -> its finished process's output."""
    folder = tmp_path_factory.mktemp("host")
    (folder / "grade.py").write_text(SCRIPT)
    path = os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")]))
    started = {}
    for name, way in WAYS.items():
        argv, stdin = way(folder / "grade.py")
        with open(stdin or os.devnull) as source:
            started[name] = subprocess.Popen(
                argv, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder,
                env={**os.environ, "PYTHONPATH": path},
            )  # fmt: skip
    return {name: proc.communicate(timeout=300)[0] for name, proc in started.items()}


def test_a_script_without_a_main_guard(outputs):
    assert EXPECTED in outputs["script"], outputs["script"][-2000:]


def test_python_dash_reading_the_script_from_stdin(outputs):
    assert EXPECTED in outputs["stdin"], outputs["stdin"][-2000:]


def test_python_dash_c(outputs):
    assert EXPECTED in outputs["dash_c"], outputs["dash_c"][-2000:]


def test_a_notebook_cell_in_an_ipython_shell(outputs):
    if "No module named 'IPython'" in outputs["notebook"]:
        pytest.skip("IPython is not installed")
    assert EXPECTED in outputs["notebook"], outputs["notebook"][-2000:]


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
