"""Adapter tests: each engine's tests run where its package imports and skip with the reason elsewhere.

``bash .ci/adapters.sh`` builds one virtual environment per engine and runs this folder in each, naming the engine
in ``SCORE_ENV_REQUIRE_ENGINES`` (comma-separated): there a missing or broken engine package is an error, not a skip.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

from tests.adapters.harness import Driver, register_probe_tasks, unregister_probe_tasks

# engine -> (the package its adapter needs, the extra that installs it)
ENGINES = {
    "verifiers": ("verifiers", "verifiers"),
    "skyrl": ("skyrl_gym", "skyrl"),
    "gem": ("gem", "gem"),
    "openenv": ("openenv.core", "openenv"),
    "nemo_gym": ("nemo_gym", "nemo-gym"),  # NeMo Gym needs Python 3.12+: its venv has its own Python
    "inspect": ("inspect_ai", "inspect"),
}
# Inspect evaluates, it does not train: tests/adapters/test_inspect_task.py checks it against the same reference
# without the trainers' driver (whose suite also asks for per-turn rewards).
DRIVEN = sorted(set(ENGINES) - {"inspect"})


REQUIRED = set(filter(None, os.environ.get("SCORE_ENV_REQUIRE_ENGINES", "").split(",")))


def require_engine(engine: str) -> None:
    """Skip the calling test unless the engine's package imports (fail instead where the engine is required)."""
    package, extra = ENGINES[engine]
    if engine in REQUIRED:
        importlib.import_module(package)
        return
    pytest.importorskip(
        package, reason=f"{package} is not installed: pip install 'score-env[{extra}]' (CI: .ci/adapters.sh)"
    )


@pytest.fixture(scope="package", autouse=True)
def probe_tasks() -> Iterator[None]:
    """The probe tasks, registered for this package's tests only."""
    register_probe_tasks()
    yield
    unregister_probe_tasks()


@pytest.fixture(params=DRIVEN)
def driver(request: pytest.FixtureRequest) -> Driver:
    """Each engine's driver (``tests/adapters/drivers``), skipped where the engine is not installed."""
    require_engine(request.param)
    return importlib.import_module(f"tests.adapters.drivers.{request.param}_driver").play
