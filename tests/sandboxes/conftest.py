"""The backends this machine has, each with what it claims; a check that nothing is left running."""

from __future__ import annotations

import os
import shutil
import time
import warnings
from dataclasses import dataclass

import pytest

from score_env.sandboxes import Limits, Sandbox, UnisolatedSandboxWarning, make_sandbox

SANDBOX_UIDS = {65534, *range(61000, 62000)}


@dataclass(frozen=True)
class Backend:
    sandbox: Sandbox
    network_isolated: bool  # claims: no socket reaches loopback or outside
    filesystem_isolated: bool  # claims: cannot write outside its work dir nor read the parent's home
    memory_per_run: bool  # claims: memory_mb caps all the run's processes together (a cgroup), not each one
    slack_s: float  # start-up and teardown allowance on top of the time limit


def _backends() -> list:
    params = [pytest.param("process", id="process")]
    params.append(
        pytest.param(
            "bwrap",
            id="bwrap",
            marks=pytest.mark.skipif(
                shutil.which("bwrap") is None, reason="bubblewrap is not installed (apt-get install bubblewrap)"
            ),
        )
    )
    params.append(pytest.param("docker", id="docker", marks=[pytest.mark.docker]))
    return params


@pytest.fixture(scope="session", params=_backends())
def backend(request) -> Backend:
    name = request.param
    if name == "docker":
        from score_env.sandboxes.docker_backend import docker_unavailable_reason

        if reason := docker_unavailable_reason():
            pytest.skip(f"docker backend: {reason}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnisolatedSandboxWarning)
        sandbox = make_sandbox(name)
    root = os.geteuid() == 0
    return Backend(
        sandbox,
        network_isolated=name != "process" or sandbox.landlock,  # process: seccomp refuses every socket
        filesystem_isolated=name != "process" or (root and sandbox.landlock),
        memory_per_run=name == "docker" or sandbox.use_cgroups,
        slack_s=5.0 if name == "docker" else 2.0,
    )


def leftover_processes() -> list[int]:
    """Live (non-zombie) processes running as a sandbox uid."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state not in (b"Z", b"X") and os.stat(f"/proc/{pid}").st_uid in SANDBOX_UIDS:
                found.append(int(pid))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def run_checked(backend: Backend, program: str, limits: Limits = Limits(timeout_s=3), stdin: str = ""):
    """Run and check the invariants every property shares: on time, nothing left running."""
    start = time.monotonic()
    result = backend.sandbox.run(program, limits=limits, stdin=stdin)
    elapsed = time.monotonic() - start
    assert elapsed < limits.wall_s + backend.slack_s, f"returned after {elapsed:.1f} s"
    deadline = time.monotonic() + 1.0
    while leftover_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leftover_processes(), f"left running: {leftover_processes()}"
    return result
