"""What a sandboxed run returns, the limits it runs under, and the error for a host that cannot isolate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """How a run ended. Only ``OK`` means the program exited 0 within every limit."""

    OK = "ok"  # exit code 0
    FAILED = "failed"  # non-zero exit code or killed by a signal (other than our limits)
    TIMEOUT = "timeout"  # used up its CPU time, or ran past the wall-clock limit; killed
    MEMORY = "memory"  # hit the memory limit (an OOM kill counted by the cgroup, or MemoryError)
    OUTPUT_LIMIT = "output_limit"  # wrote more than max_output_bytes (or a reply over max_reply_bytes); killed
    ERROR = "error"  # the sandbox itself failed to run the program (never decided from the program's output)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    Time is measured two ways (issue #12): ``timeout_s`` is CPU time, enforced by the kernel (``RLIMIT_CPU``) for
    each process, so a correct program on a loaded host is not failed because it waited for a core; the wall clock
    only catches programs that do not use CPU (sleeping, blocked) and has a generous margin over it.
    """

    timeout_s: float = 10.0  # CPU seconds per process (RLIMIT_CPU); SIGXCPU at the limit
    wall_timeout_s: float | None = None  # wall clock for the whole run; None: 3 * timeout_s + 5 (see wall_s)
    memory_mb: int = 512  # cgroup memory of the whole run where there is one (bwrap, process as root, docker)
    max_output_bytes: int = 64 * 1024  # stdout + stderr together; more is cut and the run killed
    max_reply_bytes: int = 1 << 20  # one line a program sends in a session (see :mod:`sandboxes.session`)
    max_processes: int = 32  # cgroup pids.max (bwrap and process as root, docker); RLIMIT_NPROC otherwise
    cpus: float = 1.0  # CPU quota (cgroup / docker)
    max_file_mb: int = 16  # largest file the program may write (RLIMIT_FSIZE)
    disk_mb: int = 64  # the size of each writable tmpfs of the run (its work dir, /tmp, /dev/shm)

    def __post_init__(self) -> None:
        sizes = (self.memory_mb, self.max_output_bytes, self.max_reply_bytes, self.max_processes, self.disk_mb)
        if self.timeout_s <= 0 or min(sizes) <= 0 or (self.wall_timeout_s is not None and self.wall_timeout_s <= 0):
            raise ValueError(f"limits must be positive: {self}")

    @property
    def wall_s(self) -> float:
        """The wall-clock limit of the run."""
        return self.wall_timeout_s if self.wall_timeout_s is not None else 3 * self.timeout_s + 5

    @property
    def cpu_s(self) -> tuple[int, int]:
        """RLIMIT_CPU (soft, hard): SIGXCPU at the soft limit (reported as a timeout), SIGKILL a second later."""
        soft = max(1, math.ceil(self.timeout_s))
        return soft, soft + 1


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one run: decided by the parent, never by the program."""

    status: Status
    exit_code: int | None  # None when killed before exiting normally; negative = killed by that signal
    stdout: str  # what was not read as session replies; capped at Limits.max_output_bytes (with stderr)
    stderr: str
    duration_s: float
    truncated: bool = False  # output was cut at the cap
    detail: str = ""  # why, for humans (the limit hit, the sandbox error)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


class IsolationUnavailable(ValueError):
    """No isolating backend can run here, and the unisolated one was not chosen explicitly."""
