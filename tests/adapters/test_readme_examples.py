"""The README's adapter examples (```` ```python <engine> ```` blocks) run as written where their engine is installed.

``tests/test_readme.py`` runs the plain ```` ```python ```` blocks in the main environment; these need an engine. A
block for one release of an engine (```` ```python verifiers@0.3 ````) runs where that release is installed: verifiers
0.4 and 0.3 have different APIs, and ``.ci/adapters.sh`` has a venv for each.
The OpenEnv example talks to ``score-env serve`` on port 8000: here it talks to the same server on a free port.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.adapters.conftest import ENGINES, require_engine

README = (Path(__file__).parents[2] / "README.md").read_text()
BLOCKS = re.findall(r"```python ([\w.@]+)\n(.*?)```", README, flags=re.DOTALL)


def test_every_engine_has_a_readme_example():
    tags = [tag for tag, _ in BLOCKS]
    assert sorted({tag.partition("@")[0] for tag in tags}) == sorted(ENGINES) and len(set(tags)) == len(tags)


@pytest.mark.parametrize(("tag", "block"), BLOCKS, ids=[tag for tag, _ in BLOCKS])
def test_readme_example_runs(tag, block):
    engine, _, release = tag.partition("@")
    require_engine(engine)
    installed = version(engine) if release else ""  # the one engine with such examples is its distribution's name
    if release and not (installed == release or installed.startswith(f"{release}.")):
        pytest.skip(f"the example for {engine} {release}; {engine} {installed} is installed here")
    if engine != "openenv":
        exec(compile(block, "README.md", "exec"), {})
        return
    from score_env.adapters.episode import EnvChoice
    from tests.adapters.drivers.openenv_driver import running_server

    with running_server(EnvChoice("arithmetic", "test")) as url:
        assert "http://127.0.0.1:8000" in block
        exec(compile(block.replace("http://127.0.0.1:8000", url), "README.md", "exec"), {})
