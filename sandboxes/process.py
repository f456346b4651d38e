"""The ``process`` backend: a fresh interpreter with rlimits, for machines without bubblewrap.

Covers: a fresh ``python -I`` (no site-packages of the user, no PYTHON* variables), a cleared environment, a
temporary working directory removed afterwards, rlimits (address space, CPU time, file size, open files, processes,
no core dumps), an output cap, a wall-clock limit that SIGKILLs the whole process group, and, when started as root,
a dedicated unprivileged uid per concurrent slot (so that after the run every process of that uid is killed too,
including children that left the process group).

Does NOT cover (use ``bwrap`` or ``docker`` for these):
- network: there is no network block without namespaces or seccomp; the program can open sockets.
- the file system: the program can read whatever its uid can read (world-readable files, other users' data) and,
  when not started as root, write wherever the calling user can.
- a child that calls ``setsid()`` escapes the process-group kill; it is only caught when running as root (the
  per-slot uid sweep). Not as root, it can outlive the run.
- kernel attack surface: no seccomp filter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from score_env.sandboxes.capture import kill_group, run_captured
from score_env.sandboxes.launcher import launcher_argv
from score_env.sandboxes.result import ExecutionResult, Limits
from score_env.sandboxes.verdict import classify

FIRST_UID = 61000  # uids FIRST_UID .. FIRST_UID + slots - 1 are used for sandboxed runs when running as root


class ProcessSandbox:
    """Runs Python programs in a fresh, rlimited interpreter."""

    name = "process"

    def __init__(self, python: str | None = None, slots: int = 64):
        self.python = python or sandbox_python()
        self.as_root = os.geteuid() == 0
        self._free_uids = list(range(FIRST_UID, FIRST_UID + slots))
        self._lock = threading.Condition()

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        uid = self._acquire_uid() if self.as_root else None
        work = Path(tempfile.mkdtemp(prefix="score-sandbox-"))
        try:
            (work / "main.py").write_text(program, encoding="utf-8")
            if uid is not None:
                os.chown(work, uid, uid)
                os.chown(work / "main.py", uid, uid)
            argv = launcher_argv(
                self.python,
                str(work / "main.py"),
                limits.memory_mb,
                int(limits.timeout_s) + 1,
                limits.max_file_mb,
                limits.max_processes,
            )
            captured = run_captured(
                argv,
                stdin=stdin.encode(),
                timeout_s=limits.timeout_s,
                max_output_bytes=limits.max_output_bytes,
                kill=lambda proc: self._kill(proc, uid),
                cwd=work,
                env={"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "TMPDIR": str(work)},
                start_new_session=True,
                user=uid,
                group=uid,
                extra_groups=[] if uid is not None else None,
                umask=0o077,
            )
            return classify(captured, limits)
        finally:
            if uid is not None:
                _kill_uid(uid)
                self._release_uid(uid)
            shutil.rmtree(work, ignore_errors=True)

    def _kill(self, proc: subprocess.Popen, uid: int | None) -> None:
        kill_group(proc)
        if uid is not None:
            _kill_uid(uid)

    def _acquire_uid(self) -> int:
        with self._lock:
            self._lock.wait_for(lambda: bool(self._free_uids))
            return self._free_uids.pop()

    def _release_uid(self, uid: int) -> None:
        with self._lock:
            self._free_uids.append(uid)
            self._lock.notify()


def sandbox_python() -> str:
    """The interpreter sandboxed programs run on: the system one (readable by any uid), else our own."""
    system = shutil.which("python3", path="/usr/bin:/bin")
    return system or sys.executable


def _kill_uid(uid: int) -> None:
    """SIGKILL every process owned by ``uid`` (only this run uses it), until none is left."""
    for _ in range(50):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _owner(p) == uid]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _owner(pid: str) -> int | None:
    """The uid of a live process; None for one that is gone or a zombie (dead, waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return None if state in (b"Z", b"X") else os.stat(f"/proc/{pid}").st_uid
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
