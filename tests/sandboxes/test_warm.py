"""Warm starts (sandboxes.warm): each program still gets a fresh sandbox of its own, started ahead of it."""

from __future__ import annotations

import time

import pytest

from score_env.sandboxes import Limits, Status
from score_env.sandboxes.warm import WarmStarts
from tests.sandboxes.conftest import leftover_processes

LIMITS = Limits(timeout_s=3)


@pytest.fixture
def warm(backend):
    pool = WarmStarts(backend.sandbox, size=2)
    yield pool
    pool.close()


def _wait_for_idle(pool: WarmStarts, limits: Limits, count: int = 1) -> None:
    deadline = time.monotonic() + 30
    while len(pool._idle[limits]) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(pool._idle[limits]) >= count, "no warm sandbox was started"


def test_programs_run_with_their_stdin_as_main(warm):
    program = "import sys\nprint(__name__, sys.stdin.read().upper())"
    result = warm.run(program, limits=LIMITS, stdin="abc")
    assert (result.status, result.stdout) == (Status.OK, "__main__ ABC\n")


def test_nothing_of_one_program_reaches_the_next(warm):
    writer = "import os\nopen('/tmp/left-behind', 'w').write('x')\nprint(os.getpid())"
    reader = "import os\nprint(os.path.exists('/tmp/left-behind'))"
    assert warm.run(writer, limits=LIMITS).status is Status.OK
    _wait_for_idle(warm, LIMITS)  # the next program runs in a sandbox started while the first one ran
    assert warm.run(reader, limits=LIMITS).stdout == "False\n"


def test_the_wall_clock_counts_from_the_handover(warm):
    limits = Limits(timeout_s=1, wall_timeout_s=1)
    warm.run("pass", limits=limits)
    _wait_for_idle(warm, limits)
    time.sleep(1.5)  # the idle sandbox has now existed longer than a run may last
    result = warm.run("import time\ntime.sleep(0.3)\nprint('ok')", limits=limits)
    assert (result.status, result.stdout) == (Status.OK, "ok\n")


def test_a_sandbox_that_died_while_idle_is_not_handed_out(warm):
    warm.run("pass", limits=LIMITS)
    _wait_for_idle(warm, LIMITS)
    killed = list(warm._idle[LIMITS])
    for session in killed:
        session._program.kill()
    deadline = time.monotonic() + 10  # docker reports a kill a moment later: wait until the exit is seen
    while any(s._program.poll() is None for s in killed) and time.monotonic() < deadline:
        time.sleep(0.02)
    result = warm.run("print('fresh')", limits=LIMITS)
    assert (result.status, result.stdout) == (Status.OK, "fresh\n")


def test_limits_still_hold(warm):
    result = warm.run("while True: pass", limits=Limits(timeout_s=1))
    assert result.status is Status.TIMEOUT


def test_close_ends_every_idle_sandbox(backend):
    pool = WarmStarts(backend.sandbox, size=2)
    pool.run("pass", limits=LIMITS)
    _wait_for_idle(pool, LIMITS)
    assert leftover_processes()  # the idle sandbox is waiting
    pool.close()
    deadline = time.monotonic() + 2
    while leftover_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leftover_processes()


def test_close_does_not_end_a_run_already_handed_out(backend):
    # bwrap's --die-with-parent ties a sandbox to the thread that forked it: the starter threads must outlive close().
    pool = WarmStarts(backend.sandbox, size=2)
    pool.run("pass", limits=LIMITS)
    _wait_for_idle(pool, LIMITS)
    session = pool.start("import time\ntime.sleep(1)\nprint('survived')", limits=LIMITS)
    pool.close()
    result = session.run_to_end()
    assert (result.status, result.stdout) == (Status.OK, "survived\n")


def test_a_program_that_never_fully_arrived_is_not_a_success(backend):
    from score_env.sandboxes.warm import BOOTSTRAP

    session = backend.sandbox.start(BOOTSTRAP, limits=LIMITS)
    session.send(b"0000000100\nprint('half')")  # 100 bytes announced, fewer sent, then stdin closes
    assert session.run_to_end().status is not Status.OK
