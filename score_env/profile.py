"""Where a run's time goes: wall-clock and CPU seconds per phase, so the next speed-up targets the largest part.

Code marks its phases with ``with phase("sampling"):``; phases nest, and time is charged to the innermost two levels
of the main thread's stack (``training/sampling``, ``training/probe``, ``evaluation/grading``...): a probe's own
sampling counts to the probe, not to training's sampling. CPU seconds are the whole process's (every thread: the
grading threads, torch's intra-op threads) while the phase ran, so ``cpu / wall`` is the number of cores in use.
Work in other threads is charged to the main thread's phase at the time (the rollout waits on its grading threads
inside ``grading``). Child processes (sandboxes, judges, math workers) are not counted.

Phases entered from other threads are not recorded. The cost is two clock reads per phase boundary.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

DEPTH = 2  # levels of the phase stack a charge is keyed by


@dataclass(frozen=True)
class Spent:
    """Seconds of wall clock and of CPU (all the process's threads) spent in one phase."""

    wall: float
    cpu: float

    @property
    def cores(self) -> float:
        """Cores in use on average: CPU seconds per wall-clock second."""
        return self.cpu / self.wall if self.wall > 0 else 0.0

    def __add__(self, other: Spent) -> Spent:
        return Spent(self.wall + other.wall, self.cpu + other.cpu)

    def __sub__(self, other: Spent) -> Spent:
        return Spent(self.wall - other.wall, self.cpu - other.cpu)


def _now() -> Spent:
    return Spent(time.perf_counter(), time.process_time())


class _Profile:
    """The process's phase stack and the time charged to each phase so far (one per process)."""

    def __init__(self) -> None:
        self._stack: list[str] = []
        self._spent: dict[str, Spent] = defaultdict(lambda: Spent(0.0, 0.0))
        self._mark = _now()

    def _charge(self) -> None:
        now = _now()
        key = "/".join(self._stack[:DEPTH]) or "other"
        self._spent[key] = self._spent[key] + (now - self._mark)
        self._mark = now

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._charge()
        self._stack.append(name)
        try:
            yield
        finally:
            self._charge()
            self._stack.pop()

    def snapshot(self) -> dict[str, Spent]:
        """Time charged so far, per phase (the phase under way included up to now)."""
        if threading.current_thread() is threading.main_thread():
            self._charge()
        return dict(self._spent)


_PROFILE = _Profile()
phase = _PROFILE.phase
snapshot = _PROFILE.snapshot


def since(before: Mapping[str, Spent]) -> dict[str, Spent]:
    """Time charged per phase since the ``before`` snapshot (phases with none left out)."""
    zero = Spent(0.0, 0.0)
    spent = {key: value - before.get(key, zero) for key, value in snapshot().items()}
    return {key: value for key, value in spent.items() if value.wall > 0}


def to_json(spent: Mapping[str, Spent]) -> dict[str, dict[str, float]]:
    return {key: {"wall_s": round(s.wall, 3), "cpu_s": round(s.cpu, 3)} for key, s in sorted(spent.items())}


def from_json(data: Mapping[str, Mapping[str, float]]) -> dict[str, Spent]:
    return {key: Spent(float(v["wall_s"]), float(v["cpu_s"])) for key, v in data.items()}
