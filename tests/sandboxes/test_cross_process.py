"""Two OS processes grading at once cannot touch each other (issue #12), on every backend.

The victim grades a correct but slow attempt (it must pass) and then a wrong one (it must fail: its verdict cannot be
stolen). Meanwhile the attacker, another process on the host, grades an attempt that goes after every process and
run directory it can see: it reads their memory, environment and command line, kills every process it can signal,
writes into other runs' directories; and its run's end-of-run cleanup happens while the victim's attempt runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PRELUDE = """
import sys, warnings
warnings.simplefilter("ignore")
import gymnasium as gym
import score_env.envs
from score_env.envs.code.tasks import humaneval_problems
env = gym.make("score/HumanEval-v0", sandbox=sys.argv[1], timeout_s=10).unwrapped
def grade(code):
    env.reset(options={"index": 0})
    return env.step(f"```python\\n{code}\\n```")[1]
"""
VICTIM = (
    PRELUDE
    + """
solution = str(humaneval_problems()[0].metadata["canonical_solution"])
slow = solution.replace("def has_close_elements(", "def right(") + '''
import time
def has_close_elements(numbers, threshold):
    time.sleep(0.25)
    return right(numbers, threshold)
'''
print("VICTIM", grade(slow), grade("def has_close_elements(numbers, threshold):\\n    return False\\n"))
"""
)
ATTACK = """
import glob, os, signal, time
def has_close_elements(numbers, threshold):
    me = os.getpid()
    until = time.monotonic() + 1.5
    while time.monotonic() < until:
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]:
            for name in ("mem", "environ", "cmdline"):
                try:
                    open(f"/proc/{pid}/{name}", "rb").read(1 << 16)
                except OSError:
                    pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for path in glob.glob("/run/score-sandbox/runs/*/work") + glob.glob("/tmp/score-*"):
            try:
                open(os.path.join(path, "main.py"), "w").write("raise SystemExit")
            except OSError:
                pass
        time.sleep(0.05)
    return True
"""
ATTACKER = PRELUDE + f"print('ATTACKER', grade({ATTACK!r}))\n"


def test_two_processes_grading_at_once_cannot_touch_each_other(backend):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")]))}
    name = backend.sandbox.name
    victim, attacker = (
        subprocess.Popen(
            [sys.executable, "-c", script, name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        for script in (VICTIM, ATTACKER)
    )
    victim_out, _ = victim.communicate(timeout=180)
    attacker_out, _ = attacker.communicate(timeout=180)
    assert "VICTIM 1.0 0.0" in victim_out, victim_out[-2000:]
    assert "ATTACKER 0.0" in attacker_out, attacker_out[-2000:]
