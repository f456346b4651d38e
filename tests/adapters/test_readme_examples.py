"""The README's adapter examples (```` ```python <engine> ```` blocks) run as written where their engine is installed.

``tests/test_readme.py`` runs the plain ```` ```python ```` blocks in the main environment; these need an engine.
The OpenEnv example talks to ``score-env serve`` on port 8000: here it talks to the same server on a free port.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.adapters.conftest import ENGINES, require_engine

README = (Path(__file__).parents[2] / "README.md").read_text()
BLOCKS = re.findall(r"```python (\w+)\n(.*?)```", README, flags=re.DOTALL)


def test_every_engine_has_a_readme_example():
    assert sorted(engine for engine, _ in BLOCKS) == sorted(ENGINES)


@pytest.mark.parametrize(("engine", "block"), BLOCKS, ids=[engine for engine, _ in BLOCKS])
def test_readme_example_runs(engine, block):
    require_engine(engine)
    if engine != "openenv":
        exec(compile(block, "README.md", "exec"), {})
        return
    from score_env.adapters.episode import EnvChoice
    from tests.adapters.drivers.openenv_driver import running_server

    with running_server(EnvChoice("arithmetic", "test")) as url:
        assert "http://127.0.0.1:8000" in block
        exec(compile(block.replace("http://127.0.0.1:8000", url), "README.md", "exec"), {})
