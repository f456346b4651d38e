"""A pool of judge processes: started on demand, reused between attempts, replaced when they fail; ended by its owner.

A judge (:mod:`envs.code.judge`) runs trusted tests only and talks to no candidate directly, so one judge can grade
attempt after attempt: each attempt's tests run in a fresh namespace, and nothing of a candidate but plain data
ever reaches it. A judge that overruns its deadline, dies or breaks the protocol is killed and replaced; a fresh
one starts in ~20 ms. Reused state between attempts is limited to the judge's imported modules; the global ``random``
state, which a few HumanEval tests draw inputs from, is seeded per task at the start of every attempt, and a judge
that ran out of memory or grew past a quarter of its memory limit is replaced (see :mod:`envs.code.judge`).

Judges start as ``python -I -S -c BOOT``: isolated from the environment and site-packages, with stub parent
packages so that ``score_env.envs.code.judge`` imports without ``score_env/__init__`` (gymnasium, numpy: ~0.3 s).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

from score_env.envs.worker_process import LineProcess

BOOT = """
import resource, sys, types
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # killed at its CPU limit (SIGXCPU): no core file
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


class JudgePool:
    """Idle judges, handed out one per attempt (thread-safe)."""

    def __init__(self) -> None:
        self._idle: list[LineProcess] = []
        self._lock = threading.Lock()
        self._boot: str | None = None
        self._closed = False

    @contextlib.contextmanager
    def lease(self) -> Iterator[LineProcess]:
        """A judge for one attempt. The caller kills it if it misbehaved; only a live one goes back to the pool."""
        with self._lock:
            judge = self._idle.pop() if self._idle else None
            self._boot = self._boot or _boot()
        judge = judge or LineProcess([sys.executable, "-I", "-S", "-c", self._boot], env={})
        try:
            yield judge
        finally:
            with self._lock:
                keep = judge.alive and not self._closed
                if keep:
                    self._idle.append(judge)
            if not keep:
                judge.kill()

    def close(self) -> None:
        """Kill the idle judges; one on lease is killed when its attempt ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for judge in idle:
            judge.kill()
