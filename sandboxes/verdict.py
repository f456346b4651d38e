"""Turning what the parent observed into an :class:`ExecutionResult` status."""

from __future__ import annotations

import signal

from score_env.sandboxes.capture import Captured
from score_env.sandboxes.result import ExecutionResult, Limits, Status


def classify(captured: Captured, limits: Limits, *, oom_killed: bool = False) -> ExecutionResult:
    """The status of a run, from evidence gathered outside the program."""
    stdout = captured.stdout.decode("utf-8", errors="replace")
    stderr = captured.stderr.decode("utf-8", errors="replace")
    code = captured.returncode
    if captured.timed_out or code == -signal.SIGXCPU:
        status, detail = Status.TIMEOUT, f"killed after {limits.timeout_s} s"
    elif captured.output_exceeded:
        status, detail = Status.OUTPUT_LIMIT, f"more than {limits.max_output_bytes} bytes of output"
    elif oom_killed or _memory_error(stderr):
        status, detail = Status.MEMORY, f"memory limit of {limits.memory_mb} MB"
    elif code == 0:
        status, detail = Status.OK, ""
    else:
        status, detail = Status.FAILED, f"exit code {code}"
    return ExecutionResult(status, code, stdout, stderr, captured.duration_s, captured.output_exceeded, detail)


def _memory_error(stderr: str) -> bool:
    lines = stderr.strip().splitlines()
    return bool(lines) and lines[-1].startswith("MemoryError")
