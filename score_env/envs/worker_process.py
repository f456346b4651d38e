"""A worker subprocess that speaks one line per message, with every read and write bounded by a deadline.

Shared by the code judges (:mod:`envs.code.judges`) and the MATH grader (:mod:`envs.math.grader`). A worker is a
plain ``python`` command started here, never a ``multiprocessing`` child: those re-run the host's main module
(spawn, forkserver) or copy a host that may hold threads (fork), so they break when the host is a script without a
main guard, ``python -``, ``python -c`` or a notebook (issue #12). The parent kills a worker that overruns and
starts another.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections.abc import Sequence


class LineProcess:
    """One worker process; not thread-safe (one caller at a time)."""

    def __init__(self, argv: Sequence[str], **popen_kwargs):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not in the host's process group: a Ctrl-C meant for the host is the host's
            **popen_kwargs,
        )
        self._buffer = bytearray()
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, line: bytes, deadline: float) -> bool:
        """Write one line; False when the worker died or did not take it before ``deadline``."""
        data = memoryview(line + b"\n")
        while data:
            if not _wait(self._in, select.POLLOUT, deadline):
                return False
            try:
                data = data[os.write(self._in, data) :]
            except BlockingIOError:
                continue
            except OSError:  # EPIPE: it died
                return False
        return True

    def read_line(self, deadline: float) -> bytes | None:
        """The worker's next line, or None when it died or ``deadline`` passed."""
        while b"\n" not in self._buffer:
            if not _wait(self._out, select.POLLIN, deadline):
                return None
            try:
                chunk = os.read(self._out, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                return None
            self._buffer.extend(chunk)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        return line

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


def _wait(fd: int, event: int, deadline: float) -> bool:
    """Until ``fd`` is ready for ``event`` (or hung up); False when ``deadline`` passed first."""
    poller = select.poll()
    poller.register(fd, event)
    while (remaining := deadline - time.monotonic()) > 0:
        if poller.poll(min(remaining, 1.0) * 1000):
            return True
    return False
