"""Pre-started sandboxes, each handed exactly one program: where a run's sandbox is slow to start (a container:
~0.5 s), its start overlaps the checks before it instead of preceding its own. The envs use it for backends whose
``slow_start`` says so; a fork server's run starts in a few ms and needs none (:mod:`sandboxes.forkserver`).

A warm sandbox is started like any other, by its backend and with the run's limits, running :data:`BOOTSTRAP`: it
reads a length-prefixed program from stdin with unbuffered reads (what follows stays on fd 0 for the program) and
executes it as ``__main__``. Nothing is reused: a sandbox takes one program and ends with it, so no state of one run
can reach another; an idle sandbox holds an interpreter that has run the bootstrap only, and the program's text is
the only thing sent to it. The run's wall clock counts from the handover; its CPU limit also covers the bootstrap's
own start (a few ms). A sandbox seen to have died while idle is never handed out (one that dies at the moment of
its handover fails that run as a sandbox that never started its program: for the code judge an ``error`` grade, never
a reward). Idle sandboxes and the threads that start them end with :meth:`close`, which the owner calls.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
import weakref
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor

from score_env.sandboxes import zygote
from score_env.sandboxes.result import ExecutionResult, Limits
from score_env.sandboxes.session import Session

# The program is read as the fork server's runs read theirs (zygote._exactly, its text: a container has none of ours).
BOOTSTRAP = f"""import os


{inspect.getsource(zygote._exactly)}

_program = _exactly(int(_exactly({zygote.HEADER_BYTES}))).decode("utf-8")
del _exactly
exec(compile(_program, "<program>", "exec"), {{"__name__": "__main__", "__builtins__": __builtins__}})
"""


class WarmStarts:
    """A :class:`~score_env.sandboxes.Sandbox` that keeps up to ``size`` started sandboxes of ``sandbox`` waiting
    per set of limits (``size``: about the number of runs at once)."""

    def __init__(self, sandbox, size: int = 4):
        self.sandbox, self.size = sandbox, size
        self.name, self.isolated = sandbox.name, sandbox.isolated
        self.slow_start = False
        self._idle: dict[Limits, deque[Session]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._closed = False
        # Its own starter threads: a sandbox is tied to the thread that started it (a parent-death signal), so they
        # end only after close(), once no sandbox they started is still running (see close).
        self._starter = ThreadPoolExecutor(8, thread_name_prefix="warm-sandbox")
        self._handed_out: weakref.WeakSet[Session] = weakref.WeakSet()  # started by the starter, given a program

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        return self.start(program, limits=limits).run_to_end(stdin.encode())

    def start(self, program: str, *, limits: Limits = Limits()) -> Session:
        data = program.encode("utf-8")  # first: a program that cannot be sent takes no sandbox
        session = self._take(limits) or self.sandbox.start(BOOTSTRAP, limits=limits)
        try:
            if not self._closed:
                with contextlib.suppress(RuntimeError):  # closed meanwhile: the starter takes no more work
                    self._starter.submit(self._add_one, limits)
            session.restart_clock()
            session.send(f"{len(data):010d}\n".encode() + data)  # a failed write shows as a run that never started
        except BaseException:
            session.finish()
            raise
        return session

    def close(self) -> None:
        """End every idle sandbox (one still starting ends as soon as it has started), then the starter threads: at
        once when no sandbox they started still runs (a run's grading is over), else as soon as none does, so that
        a run already handed out runs on. ``self.sandbox`` is its owner's to close."""
        self._closed = True
        with self._lock:
            idle = [s for sessions in self._idle.values() for s in sessions]
            self._idle.clear()
        for session in idle:
            session.finish()
        running = [s for s in list(self._handed_out) if s.running()]
        if not running:
            self._starter.shutdown(wait=True, cancel_futures=True)
            return
        threading.Thread(target=self._stop_after, args=(running,), name="warm-sandbox-closer", daemon=True).start()

    def _stop_after(self, running: list[Session]) -> None:
        while any(s.running() for s in running):
            time.sleep(0.05)
        self._starter.shutdown(wait=True, cancel_futures=True)

    def _take(self, limits: Limits) -> Session | None:
        while True:
            with self._lock:
                session = self._idle[limits].popleft() if self._idle[limits] else None
            if session is None:
                return None
            if session.running():
                self._handed_out.add(session)
                return session
            session.finish()  # died while idle (killed from outside): release it, try the next

    def _add_one(self, limits: Limits) -> None:
        with self._lock:
            if self._closed or len(self._idle[limits]) >= self.size:
                return
        try:
            session = self.sandbox.start(BOOTSTRAP, limits=limits)
        except Exception:  # noqa: BLE001  (a failed warm start is retried by start() itself, in the open)
            return
        with self._lock:
            if not self._closed and len(self._idle[limits]) < self.size:
                self._idle[limits].append(session)
                return
        session.finish()
