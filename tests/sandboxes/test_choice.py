"""Isolation is chosen, stated and recorded: auto never drops to the process backend, which warns once, and every
run says which backend judged it. Plus the host-wide uid allocation of the process backend."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import pytest

import score_env.envs  # noqa: F401  (registers the envs)
import score_env.sandboxes as sandboxes
from score_env.sandboxes import (
    IsolationUnavailable,
    Status,
    UnisolatedSandboxWarning,
    bwrap,
    docker_backend,
    make_sandbox,
    uids,
)
from tests.sandboxes.conftest import run_checked


def test_auto_refuses_when_no_isolating_backend_works(monkeypatch):
    monkeypatch.setattr(bwrap, "bwrap_unavailable_reason", lambda: "bubblewrap is not installed")
    monkeypatch.setattr(docker_backend, "docker_unavailable_reason", lambda: "no Docker engine reachable")
    with pytest.raises(IsolationUnavailable, match=r"apt-get install bubblewrap.*sandbox='process' explicitly"):
        make_sandbox("auto")


def test_auto_picks_docker_when_bwrap_cannot_run(monkeypatch):
    monkeypatch.setattr(bwrap, "bwrap_unavailable_reason", lambda: "bubblewrap is not installed")
    monkeypatch.setattr(docker_backend, "DockerSandbox", lambda: "a docker sandbox")
    monkeypatch.setattr(docker_backend, "docker_unavailable_reason", lambda: None)
    assert make_sandbox("auto") == "a docker sandbox"


def test_the_process_backend_is_an_opt_in_that_warns_once(monkeypatch):
    monkeypatch.setattr(sandboxes, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_sandbox("process")
        make_sandbox("process")
    ours = [w for w in caught if w.category is UnisolatedSandboxWarning]
    assert len(ours) == 1 and "without namespaces" in str(ours[0].message)


def test_the_code_task_and_every_grade_record_the_backend():
    env = gym.make("score/HumanEval-v0", sandbox="auto").unwrapped
    assert env.task.sandbox == make_sandbox("auto").name == "bwrap"  # what a run's config records
    env.reset(options={"index": 0})
    assert env.step("I do not know.")[4]["sandbox"] == "bwrap"  # what each grade records, even unparsable ones
    env.close()


def test_a_program_cannot_pose_as_a_failure_of_the_sandbox(backend):
    # `error` grades carry no reward signal: a program must not be able to earn one by imitating a sandbox failure.
    program = "import os, sys\nsys.stderr.write('bwrap: Can\\'t mount proc\\nconfine: [Errno 1]\\n')\nos._exit(125)"
    assert run_checked(backend, program).status is Status.FAILED


def test_uids_are_exclusive_across_processes():
    holder = subprocess.Popen(
        [sys.executable, "-c", "from score_env.sandboxes import uids\nlease = uids.lease_uid()\nprint(lease.uid, "
         "flush=True)\ninput()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        held = int(holder.stdout.readline())
        leases = [uids.lease_uid() for _ in range(20)]
        assert held not in {lease.uid for lease in leases} and len({lease.uid for lease in leases}) == 20
        for lease in leases:
            lease.release()
    finally:
        holder.communicate("\n", timeout=30)
