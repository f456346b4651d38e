"""The leftover check of these tests (``conftest.leftover_processes``) sees this test run's processes and no others
(issue 26, item 8): another program's sandboxed run on the machine is not a leftover of this run, and a process of
this run that escaped (daemonised: a session of its own, its parent gone) still is."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from score_env.sandboxes import Limits
from tests.sandboxes.conftest import leftover_processes, sandboxed_processes, set_child_subreaper

ROOT = Path(__file__).resolve().parents[2]
LIMITS = Limits(timeout_s=30)
WAITING = "import sys\nprint('up', flush=True)\nsys.stdin.readline()\n"  # runs until told to end
# Another program on the machine: a sandbox of its own runs WAITING until this program's stdin closes.
ELSEWHERE = f"""
import sys, warnings
from score_env.sandboxes import Limits, make_sandbox
warnings.simplefilter("ignore")
sandbox = make_sandbox(sys.argv[1])
session = sandbox.start({WAITING!r}, limits=Limits(timeout_s=30))
assert session.read_line() == b"up"
print("up", flush=True)
sys.stdin.read()
session.send(b"\\n")
session.finish()
sandbox.close()
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="not root: sandboxed programs run as the caller's uid")


def test_the_check_sees_this_runs_processes_and_no_others(backend):
    before = set(leftover_processes())  # normally none: each test checks it leaves nothing
    with _running_elsewhere(backend.sandbox.name):
        others = set(sandboxed_processes()) - before  # the other program's run among them
        assert others and set(leftover_processes()) == before, others
        session = backend.sandbox.start(WAITING, limits=LIMITS)
        try:
            assert session.read_line() == b"up"
            running = set(leftover_processes())
            assert running - before and not running & others, (running, others)  # its run, and only that
            with _escaped() as escapee:
                assert escapee in leftover_processes()
        finally:
            session.send(b"\n")
            session.finish()


@contextlib.contextmanager
def _running_elsewhere(backend: str) -> Iterator[None]:
    """A program outside this process's tree (as another test run or a benchmark would be) running a program in a
    sandbox of ``backend``, until the block ends."""
    adopting = set_child_subreaper(False)  # its starter's child goes to init, as one someone else started would
    try:
        starter = subprocess.Popen(
            ["setsid", "-f", sys.executable, "-c", ELSEWHERE, backend],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        starter.wait()
    finally:
        set_child_subreaper(adopting)
    try:
        ready, _, _ = select.select([starter.stdout], [], [], 60)
        assert ready and starter.stdout.readline() == b"up\n", "the other program's sandbox did not start"
        yield
    finally:
        starter.stdin.close()  # it ends its run and exits
        select.select([starter.stdout], [], [], 60)  # EOF: it has exited
        starter.stdout.close()


@contextlib.contextmanager
def _escaped() -> Iterator[int]:
    """A process of this test, running as a sandbox uid, that daemonised (a session of its own, its parent gone);
    its pid."""
    started = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
         "setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $!"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    pid = int(started.stdout)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        with contextlib.suppress(ChildProcessError):  # not adopted (the check above failed): not ours to reap
            while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):  # adopted: ours to reap
                time.sleep(0.01)
