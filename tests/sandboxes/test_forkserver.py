"""The fork server (sandboxes.forkserver, sandboxes.zygote): every run is a fork of one pre-started interpreter, and
still nothing of one run reaches another, each run has its own limits, and a failure of the server is an error.

The conformance and attack suites already run through it (the bwrap and process backends fork every run); these
tests check what sharing one server could break. One test per property.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.tasks import humaneval_problems, humaneval_specs
from score_env.records import GradeReason
from score_env.sandboxes import Limits, Status
from score_env.sandboxes.bwrap import BwrapSandbox
from tests.sandboxes.conftest import leftover_processes, run_checked

LIMITS = Limits(timeout_s=5)
PROBLEM = humaneval_problems()[0]
SOLUTION = str(PROBLEM.metadata["canonical_solution"])


@pytest.fixture
def forked(backend):
    if not hasattr(backend.sandbox, "server"):
        pytest.skip(f"{backend.sandbox.name} starts a sandbox per run, without a fork server")
    return backend


def test_runs_at_once_cannot_see_each_others_files_sockets_ptys_or_processes(forked):
    token = secrets.token_hex(6)
    squatter = forked.sandbox.start(
        "import os, socket, sys\n"
        "for place in ('/tmp', '/dev/shm', '.'):\n"
        f"    open(os.path.join(place, 'squatter-{token}'), 'w').write('x')\n"
        "try:\n"
        f"    s = socket.socket(socket.AF_UNIX)\n    s.bind('\\0squatter-{token}')\n    s.listen(1)\n"
        "except OSError:\n    pass\n"
        "try:\n    pty = os.openpty()\nexcept OSError:\n    pass\n"
        "print('ready', flush=True)\nsys.stdin.readline()\nprint('still here')\n",
        limits=LIMITS,
    )
    assert squatter.read_line() == b"ready"
    its_processes = leftover_processes()  # the squatter's, as the host sees them
    snoop = (
        "import glob, os, socket\n"
        f"found = [p for d in ('/tmp', '/dev/shm', '/var/tmp', '.') for p in glob.glob(d + '/squatter-{token}')]\n"
        "try:\n"
        f"    c = socket.socket(socket.AF_UNIX)\n    c.settimeout(1)\n    c.connect('\\0squatter-{token}')\n"
        "    found.append('its socket')\n"
        "except OSError:\n    pass\n"
        f"for pid in {its_processes!r}:\n"
        "    try:\n        os.kill(pid, 9)\n        found.append(f'killed {pid}')\n    except OSError:\n        pass\n"
        "try:\n    pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]\nexcept OSError:\n    pids = []\n"
        "found += [f'sees {pid}' for pid in pids if pid not in (1, os.getpid())]\n"
        "try:\n    found += [f'its pty {n}' for n in os.listdir('/dev/pts') if n != 'ptmx']\n"
        "except OSError:\n    pass\n"
        "print(found)\n"
    )
    result = forked.sandbox.run(snoop, limits=LIMITS)  # not run_checked: the squatter is still running
    squatter.send(b"go\n")
    assert squatter.read_line() == b"still here"
    assert squatter.finish().status is Status.OK
    assert run_checked(forked, "pass").status is Status.OK  # and then nothing of either is left
    assert its_processes and (result.status, result.stdout) == (Status.OK, "[]\n"), result


def test_no_program_text_stays_in_the_server(forked):
    # The server forks each run but never reads a program: a later run's memory holds no trace of an earlier one.
    token = secrets.token_hex(16)
    half, rest = token[:16], token[16:]
    scan = (
        f"first, second = {half[::-1]!r}[::-1].encode(), {rest[::-1]!r}[::-1].encode()\n"  # never joined here
        "scanned = hits = 0\n"
        "try:\n"
        "    maps = open('/proc/self/maps').read().splitlines()\n    mem = open('/proc/self/mem', 'rb', 0)\n"
        "except OSError:\n    maps = []\n"
        "for line in maps:\n"
        "    span, perms = line.split()[:2]\n"
        "    start, end = (int(x, 16) for x in span.split('-'))\n"
        "    try:\n        mem.seek(start)\n        data = mem.read(end - start) if perms[0] == 'r' else b''\n"
        "    except (OSError, OverflowError, ValueError):\n        continue\n"
        "    scanned += len(data)\n"
        "    at = data.find(first)\n"
        "    while at >= 0:\n"
        "        hits += data[at + len(first) : at + len(first) + len(second)] == second\n"
        "        at = data.find(first, at + 1)\n"
        "print(scanned, hits)\n"
    )
    holder = run_checked(forked, f"secret = {token!r}\n" + scan, LIMITS)
    later = run_checked(forked, scan, LIMITS)
    scanned, hits = map(int, later.stdout.split())
    assert hits == 0, later
    if forked.sandbox.name == "bwrap":  # the process backend's Landlock hides /proc/self: nothing to scan there
        assert scanned > 1 << 20 and int(holder.stdout.split()[1]) > 0, (holder, later)  # the scan finds a copy


@pytest.mark.parametrize(
    ("program", "limits", "expected"),
    [
        # One server, limits of each run's own, interleaved:
        ("b = bytearray(100 << 20)\nb[::4096] = b'x' * len(b[::4096])", Limits(timeout_s=5, memory_mb=64), "memory"),
        ("b = bytearray(100 << 20)\nb[::4096] = b'x' * len(b[::4096])", Limits(timeout_s=5, memory_mb=256), "ok"),
        ("open('/tmp/f', 'wb').write(bytes(2 << 20))", Limits(timeout_s=5, disk_mb=1), "failed"),
        ("open('/tmp/f', 'wb').write(bytes(2 << 20))", Limits(timeout_s=5, disk_mb=8), "ok"),
        ("import resource\nassert resource.getrlimit(resource.RLIMIT_CPU) == (2, 3)", Limits(timeout_s=2), "ok"),
        ("import resource\nassert resource.getrlimit(resource.RLIMIT_CPU) == (4, 5)", Limits(timeout_s=4), "ok"),
    ],
)
def test_limits_are_each_runs_own(forked, program, limits, expected):
    assert run_checked(forked, program, limits).status.value == expected


def test_runs_that_fork_bomb_or_exhaust_memory_leave_the_server_serving(forked):
    server = _server_pid(forked.sandbox)
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 << 20))\n"
    limits = Limits(timeout_s=2, wall_timeout_s=3, memory_mb=128, max_processes=16)
    with ThreadPoolExecutor(4) as pool:
        bad = [pool.submit(forked.sandbox.run, p, limits=limits) for p in (bomb, hog)]
        good = [pool.submit(forked.sandbox.run, "print(6 * 7)", limits=LIMITS) for _ in range(4)]
        assert [f.result().stdout for f in good] == ["42\n"] * 4
        assert {f.result().status for f in bad} <= {Status.TIMEOUT, Status.FAILED, Status.MEMORY}
    assert run_checked(forked, "print('next')").stdout == "next\n" and _server_pid(forked.sandbox) == server


@pytest.mark.infrastructure_failure
@pytest.mark.parametrize("victim", ["supervisor", "server"])
def test_a_sandbox_that_dies_mid_grade_is_an_error_never_a_reward_and_is_replaced(forked, victim):
    slow = SOLUTION.replace("def has_close_elements(", "def right(") + (
        "\nimport time\ndef has_close_elements(numbers, threshold):\n    time.sleep(0.2)\n"
        "    return right(numbers, threshold)\n"
    )
    grader = CodeGrader(forked.sandbox, Limits(timeout_s=10), humaneval_specs())
    with ThreadPoolExecutor(1) as pool:
        grading = pool.submit(grader.grade, PROBLEM, f"```python\n{slow}\n```")
        server = _server_pid(forked.sandbox)
        deadline = time.monotonic() + 10
        while not (supervisors := _children(server)) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # the candidate is answering its first calls
        os.kill(supervisors[0] if victim == "supervisor" else server, signal.SIGKILL)
        grade = grading.result()
    if victim == "server":  # each run has a supervisor of its own: it ends as it would have
        assert grade.reason is GradeReason.OK, grade
    else:  # the sandbox of the run went: never a reward, never a wrong answer
        assert grade.reason is GradeReason.ERROR and not grade.correct, grade
    assert grader.grade(PROBLEM, f"```python\n{SOLUTION}\n```").correct  # a new server, or the same one


@pytest.mark.infrastructure_failure
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_server_that_cannot_start_is_an_error_grade():
    sandbox = BwrapSandbox()
    sandbox.server.argv = ["/bin/sh", "-c", "echo no such sandbox >&2; exit 3", "sh"]
    grade = CodeGrader(sandbox, LIMITS, humaneval_specs()).grade(PROBLEM, f"```python\n{SOLUTION}\n```")
    assert grade.reason is GradeReason.ERROR and "no such sandbox" in grade.detail, grade


def test_a_program_cannot_end_its_run_as_a_sandbox_error(forked):
    # Its supervisor is its parent (pid 1 with bwrap): signals, its memory and its pipes must be out of reach.
    program = (
        "import os, signal\n"
        "for number in (9, 15, 2, 19, 17, 1, 10):\n"
        "    for pid in (os.getppid(), 1):\n"
        "        try:\n            os.kill(pid, number)\n        except OSError:\n            pass\n"
        "for name in ('mem', 'environ', 'fd/3', 'fd/4', 'fd/5', 'fd/6'):\n"
        "    try:\n        open(f'/proc/{os.getppid()}/{name}', 'r+b').write(b'x')\n    except OSError:\n        pass\n"
        "print('done')\n"
    )
    result = run_checked(forked, program)
    assert (result.status, result.stdout) == (Status.OK, "done\n"), result


@pytest.mark.parametrize(
    ("program", "code", "stdout", "in_stderr"),
    [
        ("import sys\nprint(__name__, sys.argv)", 0, "__main__ ['']\n", ""),
        ("import sys\nsys.exit(3)", 3, "", ""),
        ("import sys\nsys.exit('bye')", 1, "", "bye"),
        ("raise KeyError('k')", 1, "", "KeyError: 'k'"),
        ("import atexit\natexit.register(print, 'at exit')", 0, "at exit\n", ""),
        ("import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print('joined'))).start()", 0,
         "joined\n", ""),
        ("print('no newline', end='')", 0, "no newline", ""),
    ],
)  # fmt: skip
def test_a_program_ends_as_in_a_fresh_interpreter(forked, program, code, stdout, in_stderr):
    result = run_checked(forked, program)
    assert (result.exit_code, result.stdout) == (code, stdout) and in_stderr in result.stderr, result


def test_each_run_draws_its_own_random_numbers(forked):
    draws = {run_checked(forked, "import random\nprint(random.random())").stdout for _ in range(3)}
    assert len(draws) == 3


def _server_pid(sandbox) -> int:
    """The zygote serving ``sandbox`` (bwrap: inside the sandbox started by the process the host spawned)."""
    sandbox.run("pass", limits=LIMITS)  # started
    pending = [sandbox.server._proc.pid]
    while pending:
        pid = pending.pop(0)
        if b"zygote.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
        pending += _children(pid)
    raise AssertionError("no fork server found")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def test_modules_given_to_the_sandbox_are_imported_from_the_server(forked):
    sandbox = type(forked.sandbox)(modules={"_answer": "import math\nVALUE = math.factorial(3) * 7\n"})
    try:
        result = sandbox.run("import _answer\nprint(_answer.VALUE)", limits=LIMITS)
        assert (result.status, result.stdout) == (Status.OK, "42\n"), result
    finally:
        sandbox.close()
