"""The host's side of a fork server (:mod:`sandboxes.zygote`): one pre-started interpreter per sandbox forks a
confined process for every run, instead of a fresh sandbox and interpreter per run (with bwrap ~17 ms of CPU a run,
against ~7 ms for a fork with its namespaces, mounts, cgroup and confinement).

A backend gives :class:`ForkServer` the command that starts the zygote inside its confinement and, per run, a
config (namespaces, mounts, uid, rlimits, Landlock) and the ``cgroup.procs`` files of the run's cgroups; the run
comes back as a :class:`~sandboxes.session.Session` like any other. Each run gets its own pipes, passed to the
server over a Unix socket, and the program itself goes straight to the run's stdin: the server never holds it.

What runs of one server share, and why it is safe:
- the server's memory, copy-on-write: the modules it imported (:data:`PRELOAD`, and the trusted ``modules`` its
  owner gave it) and the interpreter's state. A run's writes stay in its own copy, and the server has never read a
  program, so no program's text or data is in what the next run inherits (a test scans a later run's memory for an
  earlier program). Values that are the same in every run of one server, where a fresh interpreter would draw its
  own: the ``str`` hash seed and the memory layout (ASLR offsets): they tell a program nothing about another run.
  ``random`` is reseeded in each fork (``os.register_at_fork``);
- the server's confinement: bwrap's read-only root and the sandbox's outer namespaces; the process backend's view of
  the host, which Landlock narrows per run; what a fresh sandbox of the same backend shares with the next;
- nothing writable and nothing live: every writable place of a run (its work dir, ``/tmp``, ``/dev/shm``; with the
  process backend ``/var/tmp``) is a fresh tmpfs in the run's own mount namespace; with bwrap each run also has its
  own devpts (ptys), ``/proc`` and pid, network (abstract Unix sockets), IPC, UTS and cgroup namespaces, so it can
  neither see nor signal another run's processes nor reach its sockets or ptys; its cgroup, rlimits, uid, disk quota
  and seccomp filter are set per run, from that run's limits.

Failures: a run whose supervisor dies ends without a status, which the host reports as a sandbox error (an ``error``
grade, never a reward). A server that dies is started again for the next run; the runs it had started keep their
supervisors and end as they would have. The server ends when its owner calls :meth:`ForkServer.close`, once its runs
in flight have ended (at interpreter exit at the latest: it reads EOF on its control socket).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from score_env.sandboxes.result import Limits
from score_env.sandboxes.session import Ended, Session

ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote.py")
CONFINE = os.path.join(os.path.dirname(ZYGOTE), "confine.py")
# The standard-library modules the code tasks' programs import (HumanEval's prompts: typing, math, re, hashlib;
# MBPP's solutions: re, math, collections, heapq, itertools...; the code judge's driver: collections, itertools,
# math): imported once per server, not once per run (typing alone is ~10 ms).
PRELOAD = (
    "array", "bisect", "cmath", "collections", "copy", "datetime", "functools", "hashlib", "heapq", "itertools",
    "math", "operator", "random", "re", "string", "typing",
)  # fmt: skip
START_S = 60.0  # for the server to import its modules and answer "ready"
END_S = 10.0  # for a run's supervisor to go once the run was ended


class ForkServer:
    """Starts ``argv`` (which must end with the zygote's command; the control socket's fd is appended) on first
    use, and again after it died. Thread-safe.

    ``modules``: trusted source (standard library only) that every program may import without compiling it, by
    name: the server runs each once, as a module (the code judge's driver, ``envs/code/wire.py``: ~2 ms a run)."""

    def __init__(
        self, argv: Sequence[str], *, seccomp: bytes, pid_namespace: bool, modules: Mapping[str, str] | None = None
    ):
        self.argv = list(argv)
        self._setup = {"preload": list(PRELOAD), "modules": dict(modules or {}), "seccomp": seccomp.hex(),
                       "pid_namespace": pid_namespace}  # fmt: skip
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._registered = False

    def start(
        self,
        program: str,
        limits: Limits,
        config: dict,
        cgroup_fds: Sequence[int] = (),
        *,
        kill: Callable[[], None] = lambda: None,
        release: Callable[[], bool] = lambda: False,
    ) -> Session:
        """Run ``program`` under ``config`` (see :mod:`sandboxes.zygote`); ``kill`` and ``release`` as in
        :class:`~sandboxes.session.Program`. Takes ``cgroup_fds`` (closed here) and, when the run cannot start,
        calls ``release`` before raising: what the caller made for the run is undone."""
        try:
            return self._run(program, limits, config, cgroup_fds, kill, release)
        except Exception:  # could not start: release what was made, then fail loud
            release()
            raise
        finally:
            for fd in cgroup_fds:
                os.close(fd)

    def _run(
        self,
        program: str,
        limits: Limits,
        config: dict,
        cgroup_fds: Sequence[int],
        kill: Callable[[], None],
        release: Callable[[], bool],
    ) -> Session:
        data = program.encode("utf-8")  # first: a program that cannot be sent takes no run
        pipes = [os.pipe() for _ in range(6)]  # stdin, stdout, stderr, started, lifeline, status
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1], pipes[4][0], pipes[5][1]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0], pipes[4][1], pipes[5][0]]
        sent = False
        try:
            self._send(json.dumps(config).encode(), [*theirs, *cgroup_fds])
            sent = True
        finally:
            for fd in theirs if sent else theirs + ours:
                os.close(fd)
        session = Session(ForkedProgram(*ours, kill=kill, release=release), limits)
        session.send(f"{len(data):010d}\n".encode() + data)  # a run that died shows it in its result
        return session

    def close(self) -> None:
        """Stop the server; it exits once the runs already started have ended (a later run starts a new one)."""
        with self._lock:
            self._stop()

    def _send(self, message: bytes, fds: list[int]) -> None:
        with self._lock:
            for _ in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    self._stop()
                    self._start()
                try:
                    socket.send_fds(self._control, [message], fds)
                    return
                except (BrokenPipeError, ConnectionResetError):  # it died since: once more, with a new one
                    self._stop()
        raise RuntimeError("the fork server died as soon as it was started")

    def _start(self) -> None:
        host_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with tempfile.TemporaryFile() as errors, host_end, server_end:  # errors: what it says if it cannot start
            proc = subprocess.Popen(
                [*self.argv, str(server_end.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=(server_end.fileno(),),
                start_new_session=True,
                env={},
                cwd="/",
            )
            server_end.close()
            host_end.settimeout(START_S)
            try:
                host_end.send(json.dumps(self._setup).encode())
                ready, fds, _, _ = socket.recv_fds(host_end, 16, 1)
            except OSError:
                ready, fds = b"", []
            if ready != b"ready" or len(fds) != 1:
                proc.kill()
                code = proc.wait()
                errors.seek(0)
                said = errors.read().decode(errors="replace").strip()[-1000:]
                raise RuntimeError(f"the fork server did not start (exit code {code}): {said or 'no message'}")
            # From now on a socket the server made: only it holds the other end (bwrap's monitor holds the first).
            self._proc, self._control = proc, socket.socket(fileno=fds[0])
        if not self._registered:
            self._registered = True
            atexit.register(self.close)

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()  # the server reads EOF, and exits once the runs in flight have ended
        if self._proc is not None:  # reaped once it has exited, whenever that is: no zombie servers
            threading.Thread(target=self._proc.wait, name="fork-server-reaper", daemon=True).start()
        self._proc = self._control = None


class ForkedProgram:
    """A run of a fork server as a :class:`~sandboxes.session.Program`: its pipes, and the run's supervisor behind
    the status pipe (the program's exit code, then EOF once the supervisor is gone) and the lifeline (closing it
    ends the run)."""

    def __init__(self, stdin, stdout, stderr, started, lifeline, status, *, kill, release):
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self._started, self._lifeline, self._status = started, lifeline, status
        self._kill, self._release = kill, release
        for fd in (stdin, stdout, stderr, status):
            os.set_blocking(fd, False)
        self._said = b""
        self._code: int | None = None
        self._status_closed = self._stdin_closed = self._killed = self._vanished = False

    def poll(self) -> int | None:
        if self._code is None and not self._status_closed:
            self._read_status()
        if self._code is None and self._status_closed:
            return -signal.SIGKILL  # the supervisor went without a word: the run is over
        return self._code

    def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            os.close(self.stdin)

    def kill(self) -> None:
        if not self._killed:
            self._killed = True
            os.close(self._lifeline)
        self._kill()

    def end(self) -> Ended:
        if not self._killed:  # the protocol kills first; never leave a run behind if a caller did not
            self.kill()
        self.close_stdin()
        os.close(self.stdout)
        os.close(self.stderr)
        deadline = time.monotonic() + END_S
        while not self._status_closed and (left := deadline - time.monotonic()) > 0:
            select.select([self._status], [], [], left)
            self._read_status()
        os.close(self._status)
        started = _read_started(self._started)
        oom = self._release()
        error = None
        if not started:
            error = "the sandbox did not start the program"
        elif self._vanished:
            error = "the run's supervisor died before the program ended (the sandbox failed, not the program)"
        elif not self._status_closed:
            error = f"the run's supervisor did not end within {END_S:g} s"
        return Ended(self._code, oom, error)

    def _read_status(self) -> None:
        try:
            chunk = os.read(self._status, 64)
        except BlockingIOError:
            return
        if not chunk:
            self._status_closed = True
            self._vanished = self._code is None and not self._killed
            return
        self._said += chunk
        if self._code is None and self._said.endswith(b"\n"):
            self._code = int(self._said)


def _read_started(fd: int) -> bool:
    try:
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            return bool(os.read(fd, 4096))
        return False
    finally:
        os.close(fd)
