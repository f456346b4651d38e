"""Turning what the parent observed into an :class:`ExecutionResult` status."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from score_env.sandboxes.result import ExecutionResult, Limits, Status


@dataclass(frozen=True)
class Captured:
    """What the parent saw of a run."""

    returncode: int | None  # None when we stopped it (timeout, output cap)
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool
    output_exceeded: bool


def classify(captured: Captured, limits: Limits, *, oom_killed: bool = False) -> ExecutionResult:
    """The status of a run, from evidence gathered outside the program.

    A memory kill counted by the run's cgroup wins over the rest: a run the kernel OOM-killed is ``memory`` even
    when the wall clock ran out while it was being killed. Output that is not UTF-8 keeps its bytes, escaped
    (``\\xff``): nothing a program writes is lost or makes the text unwritable.
    """
    stdout = captured.stdout.decode("utf-8", errors="backslashreplace")
    stderr = captured.stderr.decode("utf-8", errors="backslashreplace")
    code = captured.returncode
    if oom_killed:
        status, detail = Status.MEMORY, f"memory limit of {limits.memory_mb} MB (OOM kill)"
    elif captured.timed_out:
        status, detail = Status.TIMEOUT, f"ran past the wall-clock limit of {limits.wall_s:g} s"
    elif code == -signal.SIGXCPU:
        status, detail = Status.TIMEOUT, f"used up its {limits.cpu_s[0]} s of CPU time"
    elif captured.output_exceeded:
        status, detail = Status.OUTPUT_LIMIT, f"more than {limits.max_output_bytes} bytes of output"
    elif _memory_error(stderr):
        status, detail = Status.MEMORY, f"memory limit of {limits.memory_mb} MB (MemoryError)"
    elif code == 0:
        status, detail = Status.OK, ""
    else:
        status, detail = Status.FAILED, f"exit code {code}"
    return ExecutionResult(status, code, stdout, stderr, captured.duration_s, captured.output_exceeded, detail)


def _memory_error(stderr: str) -> bool:
    lines = stderr.strip().splitlines()
    return bool(lines) and lines[-1].startswith("MemoryError")
