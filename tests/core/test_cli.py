"""``score-env`` end to end on a tiny local model."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from score_env.cli import main
from score_env.runs import read_episodes


def test_envs_lists_arithmetic_from_the_installed_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "score_env.cli", "envs"], capture_output=True, text=True, check=True
    ).stdout
    assert "score/Arithmetic-v0" in out and "arithmetic" in out


def test_eval_prints_the_table_and_writes_the_run_directory(tiny_model_dir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = [
        "eval",
        "agent=prompting",
        "env=arithmetic",
        f"model={tiny_model_dir}",
        "limit=6",
        "sampling.max_new_tokens=8",
        "problems_per_batch=4",
        f"run_dir={run_dir}",
        "bootstrap=50",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Acc@t1" in out and "Δi→c" in out and "edit ratio" in out
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["model"] == str(tiny_model_dir) and config["agent"] == {
        "kind": "prompting",
        "max_attempts": 2,
        "stop": "fixed",
    }
    episodes = read_episodes(run_dir / "episodes.jsonl")
    assert [e.problem_index for e in episodes] == list(range(6))
    assert all(len(e.attempts) == 2 for e in episodes)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["episodes"] == 6 and set(metrics["estimates"]) >= {"acc@t1", "acc@t2", "delta"}

    # An interrupted run keeps what it did: a torn last line is dropped and the rerun fills in the rest.
    lines = (run_dir / "episodes.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "episodes.jsonl").write_text("".join(lines[:3]) + lines[3][:40])
    assert main(argv) == 0
    assert [e.problem_index for e in read_episodes(run_dir / "episodes.jsonl")] == list(range(6))
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics

    # The same run directory with another config is refused, not mixed.
    assert main([*argv[:-2], "limit=7", f"run_dir={run_dir}"]) == 2
    assert "limit: 6 then, 7 now" in capsys.readouterr().err


def test_a_users_own_envs_and_configs_packages_do_not_shadow_ours(tmp_path):
    """From a project with top-level envs/ and configs/ packages (cwd first on sys.path), ours are still found."""
    import subprocess
    import sys

    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "__init__.py").write_text("raise ImportError('the project envs package was imported')\n")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "__init__.py").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "score_env.cli", "envs"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert all(env in done.stdout for env in ("score/Arithmetic-v0", "score/MATH-v0", "score/HumanEval-v0"))
