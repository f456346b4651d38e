"""Precedence you can see: default < preset < agent file < command line < Python values, the same in every command;
a warning when ``agent=`` replaces a preset's agent block; ``print_config=true`` prints each value's origin."""

from __future__ import annotations

import pytest

from score_env.cli import main
from score_env.config import BenchmarkConfig, TrainConfig, load_config
from score_env.config.explain import explain_config
from score_env.config.load import ConfigPrecedenceWarning

PRESET = "agent:\n  kind: score\n  lr: 0.0003\n  stage1_steps: 2\n  stage2_steps: 2\nsamples: 2\n"


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "my_preset.yaml"
    path.write_text(PRESET)
    return path


def test_each_layer_wins_over_the_one_before(preset):
    config = load_config(TrainConfig, "train", [f"config={preset}", "model=m"])
    assert (config.agent.lr, config.agent.stage1_steps, config.samples) == (3e-4, 2, 2)  # the preset's block
    with pytest.warns(
        ConfigPrecedenceWarning,
        match=r"agent=score replaces the agent block .* dropping stage1_steps=2, stage2_steps=2;",
    ):
        config = load_config(TrainConfig, "train", [f"config={preset}", "model=m", "agent=score", "agent.lr=1e-4"])
    assert (config.agent.lr, config.agent.stage1_steps, config.samples) == (1e-4, 50, 2)
    config = load_config(TrainConfig, "train", [f"config={preset}", "model=m", "samples=3"], values={"samples": 5})
    assert config.samples == 5


def test_an_agent_key_alone_changes_only_that_key(preset, recwarn):
    config = load_config(TrainConfig, "train", [f"config={preset}", "model=m", "agent.lr=1e-4"])
    assert (config.agent.lr, config.agent.stage1_steps) == (1e-4, 2)
    assert not [w for w in recwarn if issubclass(w.category, ConfigPrecedenceWarning)]


def test_every_value_names_its_origin(preset):
    rows = {k: o for k, _, o in explain_config(TrainConfig, "train", [f"config={preset}", "model=m", "seed=3"])}
    assert rows["agent.lr"] == rows["samples"] == f"preset {preset}"
    assert rows["seed"] == rows["model"] == "command line"
    assert rows["agent.alpha"] == rows["sampling.top_p"] == "default"
    rows = {k: o for k, _, o in explain_config(BenchmarkConfig, "benchmark", ["config=benchmark_quick"])}
    assert rows["updates"].endswith("benchmark_quick.yaml") and rows["seeds"] == "default"
    assert rows["train_sampling.max_new_tokens"].endswith("benchmark_quick.yaml")
    assert rows["train_sampling.temperature"] == "default"


def test_print_config_prints_and_runs_nothing(preset, capsys, tmp_path):
    run_dir = tmp_path / "never"
    code = main(["train", f"config={preset}", "agent=score", "model=m", f"run_dir={run_dir}", "print_config=true"])
    out, err = capsys.readouterr()
    assert code == 0 and not run_dir.exists()
    assert "agent.lr: 5e-06" in out and "# agent file " in out and "score.yaml" in out
    assert f'run_dir: "{run_dir}"' in out and out.count("# command line") == 2
    assert err.count("\n") == 1 and err.startswith("score-env train: warning: agent=score replaces")


@pytest.mark.parametrize("command", ["eval", "train", "benchmark", "sweep", "pretrain", "tiny-model", "serve"])
def test_print_config_works_in_every_command(command, capsys):
    required = {
        "eval": ["model=m"],
        "train": ["model=m"],
        "pretrain": ["out=o"],
        "tiny-model": ["out=o"],
        "serve": ["env=arithmetic"],
    }
    assert main([command, *required.get(command, []), "print_config=true"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# the merged config") and len(out.splitlines()) > 3


def test_print_config_takes_only_true_or_false(capsys):
    assert main(["eval", "model=m", "print_config=yes"]) == 2
    assert capsys.readouterr().err == "score-env eval: error: print_config='yes': allowed values are true and false\n"
