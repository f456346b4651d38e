"""Host-wide allocation of the process backend's run uids: two runs on one host never share a uid.

A run holds an exclusive ``flock`` on ``LOCK_DIR/<uid>`` for as long as it runs; the kernel releases it when the
holder closes it or dies, so a crashed host process frees its uid. Every process of the host that uses this module
(any number of Python processes, any number of threads) draws from the same pool, so a run may kill every process
of its uid and delete every file its uid owns, knowing they are its own (issue #12: with per-process pools, one run
read another's memory and one run's cleanup killed another's attempt).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_DIR = Path("/run/score-sandbox/uids")
FIRST_UID = 61000
COUNT = 1000  # uids FIRST_UID .. FIRST_UID + COUNT - 1; no account of the host should use them
WAIT_S = 60.0


@dataclass(frozen=True)
class UidLease:
    uid: int
    fd: int  # holds the flock; closing it releases the uid

    def release(self, *, sweep: bool = True) -> None:
        """Free the uid; ``sweep`` first kills every process of it (not needed when a cgroup held them all)."""
        if sweep:
            kill_uid(self.uid)
        os.close(self.fd)


def lease_uid() -> UidLease:
    """An unused uid, exclusive to the caller until :meth:`UidLease.release`. Anything left of an earlier holder
    that died (processes) is killed first."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        start = random.randrange(COUNT)  # spread concurrent callers over the range
        for offset in range(COUNT):
            uid = FIRST_UID + (start + offset) % COUNT
            fd = os.open(LOCK_DIR / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            kill_uid(uid)
            return UidLease(uid, fd)
        time.sleep(0.05)
    raise RuntimeError(f"no free sandbox uid in {FIRST_UID}..{FIRST_UID + COUNT - 1} after {WAIT_S} s")


def kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` until none is left (bounded)."""
    for _ in range(50):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _owner(p) == uid]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def _owner(pid: str) -> int | None:
    """The uid of a live process; None for one that is gone or a zombie (dead, waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return None if state in (b"Z", b"X") else os.stat(f"/proc/{pid}").st_uid
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
