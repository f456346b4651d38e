"""Untrusted-code execution: run a Python program under limits and report what happened, from the outside.

Threat model. The program is adversarial: it was written by a policy under optimisation, which will use any way to
pass tests without solving the task, and it runs thousands of times per training step. It may loop forever, sleep,
fork-bomb, double-fork with ``setsid`` to outlive its run, allocate without bound, flood its output, open sockets
(to loopback or outside), write or read files outside its work dir, read the parent's environment and home, signal
the parent, and lie about its own success (exit 0 early, print a success marker). Every backend returns within its
wall-clock limit, leaves nothing running, and decides the status (:class:`Status`) from what the parent observed.
Whether *tests passed* is not this package's call: see ``envs/code`` for a verdict the program cannot forge.

Backends (:func:`make_sandbox`):
- ``bwrap`` (default where bubblewrap is installed): namespaces, read-only minimal root, no network, seccomp, rlimits,
  per-run cgroups as root. See :mod:`sandboxes.bwrap` for what it does and does not cover.
- ``process`` (fallback): a fresh rlimited interpreter with a clean environment, a private uid as root. No network or
  file-system isolation: see :mod:`sandboxes.process`.
- ``docker``: a locally built minimal image, ``network none``, read-only root, dropped capabilities, limits, an
  optional warm pool. See :mod:`sandboxes.docker_backend`.

This package imports nothing from the rest of score-env (an import-linter contract checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, runtime_checkable

from score_env.sandboxes.result import ExecutionResult, Limits, Status

BACKENDS = ("bwrap", "process", "docker")


@runtime_checkable
class Sandbox(Protocol):
    """Runs one Python program under ``limits``; ``stdin`` is fed to it."""

    name: str

    def run(self, program: str, *, limits: Limits = ..., stdin: str = "") -> ExecutionResult: ...


def make_sandbox(name: str = "auto") -> Sandbox:
    """``auto`` = bwrap where installed, else process; or a backend by name."""
    from score_env.sandboxes.bwrap import BwrapSandbox, bwrap_available
    from score_env.sandboxes.process import ProcessSandbox

    if name == "auto":
        name = "bwrap" if bwrap_available() else "process"
    match name:
        case "bwrap":
            return BwrapSandbox()
        case "process":
            return ProcessSandbox()
        case "docker":
            from score_env.sandboxes.docker_backend import DockerSandbox

            return DockerSandbox()
    raise ValueError(f"unknown sandbox {name!r}. Allowed: auto, {', '.join(BACKENDS)}")


def run_many(
    sandbox: Sandbox,
    programs: Sequence[str],
    *,
    limits: Limits = Limits(),
    stdins: Sequence[str] | None = None,
    workers: int = 4,
) -> list[ExecutionResult]:
    """Run a batch of programs, ``workers`` at a time (each run waits on its child, not on the GIL)."""
    stdins = stdins if stdins is not None else [""] * len(programs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p, s: sandbox.run(p, limits=limits, stdin=s), programs, stdins))


__all__ = ["BACKENDS", "ExecutionResult", "Limits", "Sandbox", "Status", "make_sandbox", "run_many"]
