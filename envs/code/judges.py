"""The judge processes of this host process: started on demand, reused between attempts, replaced when they fail.

A judge (:mod:`envs.code.judge`) runs trusted tests only and talks to no candidate directly, so one judge can grade
attempt after attempt: each attempt's tests run in a fresh namespace, and nothing of a candidate but plain data
ever reaches it. A judge that overruns its deadline, dies or breaks the protocol is killed and replaced; a fresh
one starts in ~20 ms. Reused state between attempts is limited to the judge's imported modules (the global
``random`` state, for instance, which a few HumanEval tests draw inputs from).

Judges start as ``python -I -S -c BOOT``: isolated from the environment and site-packages, with stub parent
packages so that ``score_env.envs.code.judge`` imports without ``score_env/__init__`` (gymnasium, numpy: ~0.3 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

BOOT = """
import sys, types
for name, path in {packages!r}:
    module = types.ModuleType(name)
    module.__path__ = path
    sys.modules[name] = module
from score_env.envs.code.judge import main
main()
"""


def _boot() -> str:
    import score_env
    import score_env.envs
    import score_env.envs.code

    packages = [(m.__name__, list(m.__path__)) for m in (score_env, score_env.envs, score_env.envs.code)]
    return BOOT.format(packages=packages)


class JudgeProcess:
    """One judge worker and line-based, deadline-bounded reads of what it says."""

    def __init__(self, boot: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", boot],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            start_new_session=True,
        )
        self._buffer = bytearray()
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)

    def send(self, line: bytes, deadline: float) -> bool:
        """Write one line; False when the judge died or did not take it before ``deadline``."""
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

    def send_task(self, task: dict, deadline: float) -> bool:
        return self.send(json.dumps({"task": task}).encode(), deadline)

    def read_line(self, deadline: float) -> bytes | None:
        """The judge's next line, or None when it died or ``deadline`` passed."""
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


class JudgePool:
    """Idle judges, handed out one per attempt (thread-safe)."""

    def __init__(self) -> None:
        self._idle: list[JudgeProcess] = []
        self._lock = threading.Lock()
        self._boot: str | None = None

    @contextlib.contextmanager
    def lease(self) -> Iterator[JudgeProcess]:
        """A judge for one attempt. The caller kills it if it misbehaved; only a live one goes back to the pool."""
        with self._lock:
            judge = self._idle.pop() if self._idle else None
            self._boot = self._boot or _boot()
        judge = judge or JudgeProcess(self._boot)
        try:
            yield judge
        finally:
            if judge.proc.poll() is None:
                with self._lock:
                    self._idle.append(judge)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for judge in idle:
            judge.kill()
