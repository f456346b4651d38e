"""The backends this machine has, each with what it claims; a check that nothing of this test run is left running.

The check looks at this test run's processes only (issue 26, item 8): another program's sandboxed runs on the same
machine (a second test run, a benchmark) run as the same uids, and are not this run's leftovers. This run's are the
processes descended from this one, which adopts its orphaned descendants while a test runs (a child subreaper: a
daemonised escapee stays in its tree, whatever the sandbox under test does), and those in a container it asked
Docker for.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from score_env.sandboxes import Limits, Sandbox, UnisolatedSandboxWarning, make_sandbox

SANDBOX_UIDS = {65534, *range(61000, 62000)}
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37  # prctl(2)
CONTAINER_ID = re.compile(rb"[0-9a-f]{64}")  # as it appears in /proc/<pid>/cgroup (cgroupfs or systemd driver)
_containers: set[bytes] = set()  # every container this process asked Docker for


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


@pytest.fixture(autouse=True)
def own_processes_stay_findable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """While a test runs, this process adopts its orphaned descendants and notes the containers it creates, so that
    :func:`leftover_processes` finds every process the test started, and no other."""
    try:
        from docker.api.client import APIClient
    except ImportError:  # no docker SDK: no container of ours to note
        APIClient = None
    if APIClient is not None:
        create = APIClient.create_container_from_config

        def noted(self, *args, **kwargs):
            made = create(self, *args, **kwargs)
            _containers.add(made["Id"].encode())
            return made

        monkeypatch.setattr(APIClient, "create_container_from_config", noted)
    was = set_child_subreaper(True)
    yield
    set_child_subreaper(was)  # outside these tests, orphans go where they would (init): only the tests' are adopted


def set_child_subreaper(on: bool) -> bool:
    """Whether this process adopts its orphaned descendants from now on (prctl(2)); returns what it was before."""
    libc = ctypes.CDLL(None, use_errno=True)
    was = ctypes.c_int()
    if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_GET_CHILD_SUBREAPER)")
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    return bool(was.value)


def leftover_processes() -> list[int]:
    """This test run's live (non-zombie) processes running as a sandbox uid: descended from this process or in a
    container it created (see the module doc)."""
    table = _processes()
    ours = _descendants(table, os.getpid())
    return sorted(pid for pid, (_, sandboxed) in table.items() if sandboxed and (pid in ours or _in_our_container(pid)))


def sandboxed_processes() -> list[int]:
    """Every live process of the machine running as a sandbox uid, whoever started it."""
    return sorted(pid for pid, (_, sandboxed) in _processes().items() if sandboxed)


def _processes() -> dict[int, tuple[int, bool]]:
    """Every process of the machine: pid -> (its parent's pid, whether it is live and runs as a sandbox uid)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state, parent = f.read().rsplit(b")", 1)[1].split()[:2]
            uid = os.stat(f"/proc/{pid}").st_uid
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
        found[int(pid)] = (int(parent), state not in (b"Z", b"X") and uid in SANDBOX_UIDS)
    return found


def _descendants(table: dict[int, tuple[int, bool]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, pending = set(), [root]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _in_our_container(pid: int) -> bool:
    if not _containers:
        return False
    try:
        return any(found in _containers for found in CONTAINER_ID.findall(Path(f"/proc/{pid}/cgroup").read_bytes()))
    except (FileNotFoundError, ProcessLookupError):
        return False


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
