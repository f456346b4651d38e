"""A sandboxed program the caller talks to while it runs: send bytes, read reply lines, then finish with a result.

Every backend starts its program and hands :class:`Session` the three pipe ends and a way to kill it
(:class:`Program`); the session does the rest the same way on every backend: it writes without blocking, drains
stdout and stderr, caps them, enforces the run's wall-clock deadline from the outside (and any shorter deadline a
caller gives one read), kills the whole run on any limit, and decides the status from what it observed
(:func:`sandboxes.verdict.classify`). A one-shot run (:meth:`Session.run_to_end`) is a session that sends its
input, closes stdin and waits for the exit.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from score_env.sandboxes.result import ExecutionResult, Limits, Status
from score_env.sandboxes.verdict import Captured, classify

GRACE_S = 0.2  # after the program exits, how long to drain pipes a leftover child may hold open; and, at the end
# of a session, how long the program gets to exit by itself after its stdin closed


@dataclass(frozen=True)
class Ended:
    """What a backend knows once its program is gone."""

    exit_code: int | None
    oom_killed: bool = False  # the run's cgroup counted an OOM kill
    sandbox_error: str | None = None  # the sandbox never started the program (never decided from its output)


class Program(Protocol):
    """A started program as a backend hands it over: non-blocking pipe ends and how to stop it."""

    stdin: int
    stdout: int
    stderr: int

    def poll(self) -> int | None:
        """The exit code once the program's main process has exited (cheap: called in the pump loop)."""
        ...

    def close_stdin(self) -> None: ...

    def kill(self) -> None:
        """End everything the run started (its process group, pid namespace, cgroup or container)."""
        ...

    def end(self) -> Ended:
        """After :meth:`kill`: reap, release every resource of the run, and report."""
        ...


class Session:
    """Talk to a running program. Not thread-safe: one caller at a time."""

    def __init__(self, program: Program, limits: Limits):
        self.limits = limits
        self._program = program
        self._started = time.monotonic()
        self.deadline = self._started + limits.wall_s
        self._out, self._err, self._pending = bytearray(), bytearray(), bytearray()
        self._open = {program.stdout: self._out, program.stderr: self._err}
        self._exited_at: float | None = None
        self._timed_out = self._exceeded = self._ended = self._stdin_closed = False
        self._line_allowance = 0
        self._result: ExecutionResult | None = None

    def restart_clock(self) -> None:
        """Count the run's wall clock from now: a pre-started sandbox was just handed its program (sandboxes.warm)."""
        self._started = time.monotonic()
        self.deadline = self._started + self.limits.wall_s

    def running(self) -> bool:
        """Whether the program still runs, asking the backend now (``alive`` knows what the last pump saw)."""
        return self.alive and self._program.poll() is None

    @property
    def alive(self) -> bool:
        """Whether the program may still answer (no limit hit, not exited)."""
        return not (self._timed_out or self._exceeded or self._ended or self._exited_at is not None)

    def send(self, data: bytes) -> bool:
        """Write ``data`` to the program's stdin; False when it could not all be written (the run ended)."""
        self._pending.extend(data)
        self._pump(lambda: not self._pending, self.deadline)
        return not self._pending

    def read_line(self, deadline: float | None = None) -> bytes | None:
        """The next line the program writes on stdout (without the newline); None when the run ended, a line grew
        past ``max_reply_bytes``, or ``deadline`` (or the run's own) passed: the run is then killed."""
        self._line_allowance = self.limits.max_reply_bytes
        try:
            if not self._pump(lambda: b"\n" in self._out, min(deadline or self.deadline, self.deadline)):
                return None
        finally:
            self._line_allowance = 0
        line, _, rest = bytes(self._out).partition(b"\n")
        self._out[:] = rest
        return line

    def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            self._pending.clear()
            self._program.close_stdin()

    def run_to_end(self, stdin: bytes = b"") -> ExecutionResult:
        """One-shot: send ``stdin``, close it, wait for the exit (within the limits), and finish."""
        self.send(stdin)
        self.close_stdin()
        self._pump(lambda: False, self.deadline)
        return self.finish()

    def finish(self) -> ExecutionResult:
        """Close stdin, give the program a moment to exit, kill what is left, release everything; the result."""
        if self._result is None:
            self.close_stdin()
            self._pump(lambda: False, min(self.deadline, time.monotonic() + GRACE_S), on_deadline=None)
            self._program.kill()  # always: ends anything left running, whatever happened
            self._result = self._classify(self._program.end())
        return self._result

    def _classify(self, ended: Ended) -> ExecutionResult:
        duration = time.monotonic() - self._started
        if ended.sandbox_error is not None:
            stderr = self._err.decode("utf-8", errors="backslashreplace")[-2000:]
            return ExecutionResult(Status.ERROR, ended.exit_code, "", stderr, duration, detail=ended.sandbox_error)
        cap = self.limits.max_output_bytes
        stopped = self._timed_out or self._exceeded
        captured = Captured(
            None if stopped else ended.exit_code,
            bytes(self._out[:cap]),
            bytes(self._err[: max(0, cap - len(self._out))]),
            duration,
            self._timed_out,
            self._exceeded,
        )
        return classify(captured, self.limits, oom_killed=ended.oom_killed)

    def _pump(self, done: Callable[[], bool], deadline: float, on_deadline: str | None = "timeout") -> bool:
        """Move bytes until ``done()``; False when the run ended, hit a limit or ``deadline`` first."""
        while not done():
            if self._timed_out or self._exceeded or self._ended:
                return False
            now = time.monotonic()
            if now >= deadline:
                if on_deadline == "timeout":
                    self._stop(timed_out=True)
                return False
            if self._exited_at is None and self._program.poll() is not None:
                self._exited_at = now
            if self._exited_at is not None and (not self._open or now - self._exited_at > GRACE_S):
                self._ended = True  # exited, and its output is drained (or held open by a leftover child)
                return done()
            self._step(min(0.05, deadline - now))
        return True

    def _step(self, timeout: float) -> None:
        """One poll: read what is ready, write what is pending."""
        writing = bool(self._pending) and not self._stdin_closed
        if not self._open and not writing:
            time.sleep(min(timeout, 0.002))  # output closed, the exit not yet seen: poll() again soon
            return
        poller = select.poll()
        for fd in self._open:
            poller.register(fd, select.POLLIN)
        if writing:
            poller.register(self._program.stdin, select.POLLOUT)
        for fd, events in poller.poll(max(0, int(timeout * 1000))):
            if fd in self._open and events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                self._read(fd)
            elif writing and fd == self._program.stdin:
                self._write()

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            del self._open[fd]
            return
        self._open[fd].extend(chunk)
        if len(self._out) + len(self._err) > self.limits.max_output_bytes + self._line_allowance:
            self._stop(exceeded=True)

    def _write(self) -> None:
        try:
            written = os.write(self._program.stdin, self._pending[:65536])
        except BlockingIOError:
            return
        except (BrokenPipeError, ConnectionResetError):  # the program closed its stdin: nothing more goes in
            self._stdin_closed = True
            self._pending.clear()
            return
        del self._pending[:written]

    def _stop(self, *, timed_out: bool = False, exceeded: bool = False) -> None:
        self._timed_out |= timed_out
        self._exceeded |= exceeded
        self._program.kill()
