"""Per-run cgroups (pids, memory, cpu), v2 or v1, when running as root.

A run gets its own cgroup; the run's supervisor joins it (through ``cgroup.procs`` files the host opened for it,
:mod:`sandboxes.zygote`) before the program's process is forked, so every process the program starts is counted and
capped, and ``kill`` can end them all, wherever they moved in the process tree.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class RunCgroup:
    """The cgroup(s) of one run. Hand the run's supervisor :meth:`open_procs`, then ``kill_all`` and ``remove``."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    @classmethod
    def create(cls, memory_mb: int, max_processes: int, cpus: float) -> RunCgroup:
        name = f"score-sandbox-{uuid.uuid4().hex[:12]}"
        if (ROOT / "cgroup.controllers").exists():  # v2
            path = ROOT / name
            path.mkdir()
            _write(path / "pids.max", max_processes)
            _write(path / "memory.max", memory_mb * 1024 * 1024)
            _write(path / "memory.swap.max", 0, optional=True)
            _write(path / "cpu.max", f"{int(cpus * 100_000)} 100000")
            return cls([path])
        paths = [ROOT / c / name for c in ("pids", "memory", "cpu")]
        for path in paths:
            path.mkdir()
        _write(paths[0] / "pids.max", max_processes)
        _write(paths[1] / "memory.limit_in_bytes", memory_mb * 1024 * 1024)
        _write(paths[1] / "memory.memsw.limit_in_bytes", memory_mb * 1024 * 1024, optional=True)
        _write(paths[2] / "cpu.cfs_period_us", 100_000)
        _write(paths[2] / "cpu.cfs_quota_us", int(cpus * 100_000))
        return cls(paths)

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                found |= {int(x) for x in (path / "cgroup.procs").read_text().split()}
        return sorted(found)

    def open_procs(self) -> list[int]:
        """The ``cgroup.procs`` files, open for writing (the caller closes them): a process that writes "0" to each
        joins the run's cgroup(s), with the permission of whoever opened them (root), wherever it runs."""
        return [os.open(p / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for p in self.paths]

    def oom_killed(self) -> bool:
        """Whether the kernel OOM-killed a process of the run (its memory limit was hit and reclaim failed).

        v2: ``oom_kill`` in ``memory.events``. v1: ``oom_kill`` in ``memory.oom_control`` (or ``under_oom``);
        ``memory.failcnt`` is not used: it counts every time usage touched the limit, which reclaim often resolves,
        and stays 0 on some kernels when a kill did happen (issue #12).
        """
        for path in self.paths:
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(FileNotFoundError):
                    counts = dict(line.split() for line in (path / name).read_text().splitlines() if line.strip())
                    kills = int(counts.get("oom_kill", 0)) + int(counts.get("oom_group_kill", 0))
                    return kills > 0 or counts.get("under_oom") == "1"
        return False

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup until it is empty (bounded: about a second). The first waits are short:
        a run's last process usually leaves the cgroup within a millisecond of its kill, and every run ends here."""
        delay, deadline = 0.0005, time.monotonic() + 1.0
        while pids := self.pids():
            if time.monotonic() > deadline:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(delay)
            delay = min(2 * delay, 0.01)

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy for a moment after the last process died
                    time.sleep(0.01)


_remover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cgroup-remover")


def remove_later(cgroup: RunCgroup) -> None:
    """Remove an emptied cgroup in the background: the kernel releases a dead task's pid charge a little after the
    task is gone, and ``rmdir`` fails until then. Waiting for it would add ~10 ms to every run."""
    try:
        _remover.submit(cgroup.remove)
    except RuntimeError:  # at interpreter exit the remover is shut down: remove now
        cgroup.remove()


def cgroups_available() -> bool:
    """Whether per-run cgroups can be made here (root, and a writable pids + memory hierarchy)."""
    if os.geteuid() != 0:
        return False
    if (ROOT / "cgroup.controllers").exists():
        controllers = (ROOT / "cgroup.subtree_control").read_text().split()
        return {"pids", "memory"} <= set(controllers) and os.access(ROOT, os.W_OK)
    return all(os.access(ROOT / c, os.W_OK) for c in ("pids", "memory", "cpu"))


def _write(path: Path, value: object, optional: bool = False) -> None:
    try:
        path.write_text(str(value))
    except (FileNotFoundError, PermissionError, OSError):
        if not optional:
            raise
