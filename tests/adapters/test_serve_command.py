"""``score-env serve``: its config is validated like every command's, before the OpenEnv package is even needed."""

from __future__ import annotations

import importlib.util

import pytest

from score_env.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve"], "missing required config key 'env'"),
        (["serve", "env=arithmetc"], "Did you mean 'arithmetic'"),
        (["serve", "env=humaneval"], "split='train' is not a split of score/HumanEval-v0"),
        (["serve", "env=arithmetic", "prot=9000"], "unknown config key 'prot'"),
        (["serve", "env=arithmetic", "port=70000"], "port"),
        (["serve", "env=arithmetic", "env_kwargs.digitz=3"], "digitz"),
    ],
)
def test_mistakes_exit_2_with_one_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("openenv") is not None, reason="openenv-core is installed here")
def test_without_openenv_it_says_what_to_install(capsys):
    assert main(["serve", "env=arithmetic"]) == 2
    assert "pip install 'score-env[openenv]'" in capsys.readouterr().err
