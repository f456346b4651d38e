"""A local child process as a :class:`~sandboxes.session.Program`: shared by the process and bwrap backends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Sequence

from score_env.sandboxes.session import Ended


class PopenProgram:
    """Starts ``argv`` in its own session with three pipes.

    ``kill`` must end the whole tree the backend started (a process group, a pid namespace, a cgroup);
    ``release`` frees the run's resources after the kill and says whether the cgroup saw an OOM kill.
    ``signal_exit_codes``: the direct child is an init (bwrap) that reports a program killed by signal N as exit
    code 128 + N; it is read back as -N, as :mod:`subprocess` reports it. ``started_fd`` is the read end of a pipe
    the backend's launcher writes to once the sandbox is set up and just before the untrusted program starts: a run
    that never wrote it failed in the sandbox, not in the program (which cannot forge this: the pipe is closed
    before it runs).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        kill: Callable[[subprocess.Popen], None],
        release: Callable[[], bool],
        started_fd: int | None = None,
        signal_exit_codes: bool = False,
        **popen_kwargs,
    ):
        self._kill, self._release, self._started_fd = kill, release, started_fd
        self._signal_exit_codes = signal_exit_codes
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **popen_kwargs,
        )
        self.stdin, self.stdout, self.stderr = (
            f.fileno() for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr)
        )
        for fd in (self.stdin, self.stdout, self.stderr):
            os.set_blocking(fd, False)

    def poll(self) -> int | None:
        return self.proc.poll()

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def kill(self) -> None:
        self._kill(self.proc)

    def end(self) -> Ended:
        self.close_stdin()
        self.proc.stdout.close()
        self.proc.stderr.close()
        code = self.proc.wait()
        if self._signal_exit_codes and 128 < code < 128 + 65:
            code = 128 - code
        started = self._read_started()
        oom = self._release()
        return Ended(code, oom, None if started else f"the sandbox did not start the program (exit code {code})")

    def _read_started(self) -> bool:
        if self._started_fd is None:
            return True
        try:
            os.set_blocking(self._started_fd, False)
            return bool(os.read(self._started_fd, 4096))
        except BlockingIOError:
            return False
        finally:
            os.close(self._started_fd)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group ``proc`` leads (it was started with ``start_new_session=True``)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def started_pipe() -> tuple[int, int]:
    """(read end, write end) of the "sandbox started" pipe; pass the write end to the launcher with ``pass_fds``."""
    return os.pipe()
