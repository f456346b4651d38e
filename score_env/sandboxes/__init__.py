"""Untrusted-code execution: run a Python program under limits and report what happened, from the outside.

Threat model. The program is adversarial: it was written by a policy under optimisation, which will use any way to
pass tests without solving the task, and it runs thousands of times per training step. It may loop forever, sleep,
fork-bomb, double-fork with ``setsid`` to outlive its run, allocate without bound (in several processes), flood its
output, fill the disk, open sockets (to loopback, Unix sockets, or outside), write or read files outside its work dir
(the datasets with their reference solutions among them), read the parent's environment and home, signal the parent
or another run, imitate a failure of the sandbox, and lie about its own success (exit 0 early, print a success
marker). Every backend returns within its wall-clock limit, leaves nothing running and nothing written, keeps runs
apart, and decides the status (:class:`Status`) from what the parent observed; a sandbox error is decided from
evidence the program cannot produce (a "started" pipe closed before the program runs, a status its supervisor
writes). Whether *tests passed* is not this package's call: see ``envs/code``, where the tests never enter the
sandbox.

Backends (:func:`make_sandbox`); ``auto`` picks the first isolating one that works here, and never the process
backend: where none works it raises :class:`IsolationUnavailable`, saying what to install.
- ``bwrap`` (preferred): namespaces, read-only minimal root, no network, seccomp, rlimits, a disk quota, per-run
  cgroups as root; each run a fork of one sandboxed, pre-started interpreter with fresh namespaces and tmpfs of its
  own. See :mod:`sandboxes.bwrap` for what it does and does not cover.
- ``docker``: a locally built minimal image, ``network none``, read-only root, dropped capabilities, limits, an
  optional warm pool. See :mod:`sandboxes.docker_backend`.
- ``process`` (explicit opt-in only; warns once per process): a fork of a pre-started interpreter, confined by what
  the host allows (a uid of its own, a cgroup and a private tmpfs as root; Landlock; seccomp), without namespaces.
  See :mod:`sandboxes.process` for what that leaves open; without root or Landlock it is for trusted code only.

Fork servers (bwrap, process): :mod:`sandboxes.forkserver` says what runs of one server share and why it is safe;
:mod:`sandboxes.zygote` how each run is made.

Sessions: :meth:`Sandbox.start` runs a program the caller talks to while it runs (send lines, read reply lines,
each bounded from outside), which is how ``envs/code`` keeps the tests out of the sandbox (:mod:`sandboxes.session`).

This package imports nothing from the rest of score-env (an import-linter contract checks it).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, runtime_checkable

from score_env.sandboxes.result import ExecutionResult, IsolationUnavailable, Limits, Status
from score_env.sandboxes.session import Session

BACKENDS = ("bwrap", "process", "docker")


@runtime_checkable
class Sandbox(Protocol):
    """Runs Python programs under ``limits``: one-shot (``run``, ``stdin`` fed to it) or as a session (``start``)."""

    name: str
    isolated: bool  # namespaces or a container: may be picked by "auto"
    slow_start: bool  # a run starts a sandbox from scratch (a container: ~0.5 s): worth starting ahead (sandboxes.warm)

    def run(self, program: str, *, limits: Limits = ..., stdin: str = "") -> ExecutionResult: ...

    def start(self, program: str, *, limits: Limits = ...) -> Session: ...

    def close(self) -> None:
        """Release what the sandbox keeps between runs (a fork server, warm containers); runs already started end
        as they would have."""
        ...


class UnisolatedSandboxWarning(UserWarning):
    """The process backend was chosen: no namespaces (see sandboxes.process)."""


_warned = False


def make_sandbox(name: str = "auto", *, modules: Mapping[str, str] | None = None) -> Sandbox:
    """A backend by name; ``auto``: bwrap where it works, else docker, else :class:`IsolationUnavailable`.

    ``modules``: trusted source (standard library only) by module name, which a fork server (bwrap, process) runs
    once so that its programs import it without compiling it; docker starts each container fresh and has none (a
    program that imports one must fall back, as the code judge's driver does)."""
    match name:
        case "auto":
            return _isolating(modules)
        case "bwrap":
            from score_env.sandboxes.bwrap import BwrapSandbox

            return BwrapSandbox(modules=modules)
        case "docker":
            from score_env.sandboxes.docker_backend import DockerSandbox

            return DockerSandbox()
        case "process":
            from score_env.sandboxes.process import ProcessSandbox

            sandbox = ProcessSandbox(modules=modules)
            _warn_once(sandbox.caveats())
            return sandbox
    raise ValueError(f"unknown sandbox {name!r}. Allowed: auto, {', '.join(BACKENDS)}")


def _isolating(modules: Mapping[str, str] | None) -> Sandbox:
    from score_env.sandboxes.bwrap import bwrap_unavailable_reason
    from score_env.sandboxes.docker_backend import docker_unavailable_reason

    if (bwrap := bwrap_unavailable_reason()) is None:
        return make_sandbox("bwrap", modules=modules)
    if (docker := docker_unavailable_reason()) is None:
        return make_sandbox("docker")
    raise IsolationUnavailable(
        "sandbox='auto' found no isolating backend to run untrusted code: "
        f"bwrap: {bwrap}; docker: {docker}. Install bubblewrap (apt-get install bubblewrap) or start Docker "
        "(.ci/docker_up.sh), or pass sandbox='process' explicitly to run without namespaces (see sandboxes.process)."
    )


def _warn_once(caveats: list[str]) -> None:
    global _warned
    if not _warned:
        _warned = True
        extra = f" On this host also: {'; '.join(caveats)}." if caveats else ""
        warnings.warn(
            "sandbox='process': untrusted code runs without namespaces (no pid, network or user isolation; see "
            f"sandboxes.process for what is and is not covered).{extra}",
            UnisolatedSandboxWarning,
            stacklevel=3,
        )


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


__all__ = [
    "BACKENDS",
    "ExecutionResult",
    "IsolationUnavailable",
    "Limits",
    "Sandbox",
    "Session",
    "Status",
    "UnisolatedSandboxWarning",
    "make_sandbox",
    "run_many",
]
