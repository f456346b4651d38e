"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write run directories: in a fresh directory, as for a new user
    exec(compile(block, "README.md", "exec"), {})


def test_readme_names_the_test_command_that_ci_runs():
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "python -m pytest" in README and "python -m pytest" in ci
