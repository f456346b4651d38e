"""Running a command with a wall-clock limit and a cap on its output, shared by the process and bwrap backends."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

GRACE_S = 0.2  # after the main process exits, how long to drain pipes a leftover child may hold open


@dataclass(frozen=True)
class Captured:
    returncode: int | None
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool
    output_exceeded: bool


def run_captured(
    argv: Sequence[str],
    *,
    stdin: bytes,
    timeout_s: float,
    max_output_bytes: int,
    kill: Callable[[subprocess.Popen], None],
    **popen_kwargs,
) -> Captured:
    """Run ``argv``; stop it with ``kill`` on timeout or when its output passes ``max_output_bytes``.

    ``kill`` must end the whole tree the backend started (a process group, a pid namespace, a cgroup).
    """
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen_kwargs)
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the program did not read its input
    out, err = bytearray(), bytearray()
    timed_out = exceeded = False
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, out)
    selector.register(proc.stderr, selectors.EVENT_READ, err)
    exited_at: float | None = None
    while selector.get_map():
        now = time.monotonic()
        if now - start > timeout_s:
            timed_out = True
            break
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > GRACE_S:
            break  # a leftover child holds the pipe open: stop reading; `kill` ends it
        for key, _ in selector.select(timeout=0.05):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            key.data.extend(chunk)
            if len(out) + len(err) > max_output_bytes:
                exceeded = True
                break
        if exceeded:
            break
    selector.close()
    kill(proc)  # always: ends anything left running, whatever happened
    proc.stdout.close()
    proc.stderr.close()
    returncode = proc.wait()
    return Captured(
        None if (timed_out or exceeded) else returncode,
        bytes(out[:max_output_bytes]),
        bytes(err[: max(0, max_output_bytes - len(out))]),
        time.monotonic() - start,
        timed_out,
        exceeded,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group ``proc`` leads (it was started with ``start_new_session=True``)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
