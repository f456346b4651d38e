"""What a sandboxed run returns, and the limits it runs under."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """How a run ended. Only ``OK`` means the program exited 0 within every limit."""

    OK = "ok"  # exit code 0
    FAILED = "failed"  # non-zero exit code or killed by a signal (other than our limits)
    TIMEOUT = "timeout"  # ran past timeout_s (wall clock) or its CPU-time limit; killed
    MEMORY = "memory"  # hit the memory limit (OOM kill or MemoryError)
    OUTPUT_LIMIT = "output_limit"  # wrote more than max_output_bytes; killed
    ERROR = "error"  # the sandbox itself failed to run the program


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run."""

    timeout_s: float = 10.0  # wall clock
    memory_mb: int = 512  # address space / cgroup memory
    max_output_bytes: int = 64 * 1024  # stdout + stderr together; more is cut and the run killed
    max_processes: int = 32  # cgroup pids.max (bwrap as root, docker); RLIMIT_NPROC only in the process backend
    cpus: float = 1.0  # CPU quota (cgroup / docker)
    max_file_mb: int = 16  # largest file the program may write

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.memory_mb <= 0 or self.max_output_bytes <= 0 or self.max_processes <= 0:
            raise ValueError(f"limits must be positive: {self}")


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one run: decided by the parent, never by the program."""

    status: Status
    exit_code: int | None  # None when killed before exiting normally; negative = killed by that signal
    stdout: str  # capped at Limits.max_output_bytes (with stderr)
    stderr: str
    duration_s: float
    truncated: bool = False  # output was cut at the cap
    detail: str = ""  # why, for humans (the limit hit, the sandbox error)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK
