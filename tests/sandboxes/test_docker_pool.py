"""The docker backend's warm pool: fast reuse of clean containers, recycling after any timeout or failure."""

from __future__ import annotations

import pytest

from score_env.sandboxes import Limits, Status

pytestmark = pytest.mark.docker
LIMITS = Limits(timeout_s=2, wall_timeout_s=3)


@pytest.fixture
def pool():
    from score_env.sandboxes.docker_backend import DockerSandbox, docker_unavailable_reason

    if reason := docker_unavailable_reason():
        pytest.skip(f"docker backend: {reason}")
    sandbox = DockerSandbox(pool_size=1, limits=LIMITS)
    yield sandbox
    sandbox.close()


def test_a_clean_run_reuses_the_container(pool):
    before = list(pool._pool)
    assert pool.run("print(1)", limits=LIMITS).stdout == "1\n"
    assert pool._pool == before


@pytest.mark.parametrize(
    "program",
    [
        "import time\ntime.sleep(60)",  # timeout
        "raise SystemExit(3)",  # failure
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n",  # ok but leaves a process
    ],
)
def test_a_container_is_recycled_after_a_timeout_a_failure_or_a_leftover(pool, program):
    before = list(pool._pool)
    result = pool.run(program, limits=LIMITS)
    assert result.status in (Status.TIMEOUT, Status.FAILED, Status.OK)
    assert pool._pool and pool._pool != before  # a fresh container replaced the used one
    assert pool.run("print(2)", limits=LIMITS).stdout == "2\n"
