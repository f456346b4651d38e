"""TensorBoard and W&B beside ``metrics.jsonl``: W&B logs offline here (no network), one W&B run per training run,
the same one continued on resume; ``wandb=true`` without a login is one line before any model loads."""

from __future__ import annotations

import json
import time

import pytest

from score_env import api
from score_env.cli import main
from score_env.config import TrainConfig, load_config
from score_env.training.trackers import wandb_run_id

pytest.importorskip("wandb")  # the wandb extra (in dev)

TINY = ["agent=score", "agent.stage1_steps=1", "agent.stage2_steps=1", "problems_per_step=2", "samples=2"]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def wandb_logs(run_dir):
    return sorted((run_dir / "wandb").glob(f"offline-run-*-{wandb_run_id(run_dir)}/run-*.wandb"))


def eventually(read, done, wait_s: float = 60.0):
    """What ``read`` gives once ``done`` holds for it, or at the deadline (then the caller's assert says what)."""
    deadline = time.monotonic() + wait_s
    while not done(value := read()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def test_a_training_run_logs_every_update_to_one_offline_wandb_run(tiny_model_dir, tmp_path, offline):
    run_dir = tmp_path / "run"
    overrides = [*TINY, f"model={tiny_model_dir}", f"run_dir={run_dir}", "sampling.max_new_tokens=6", "wandb=true"]
    api.train(load_config(TrainConfig, "train", overrides))
    [log] = wandb_logs(run_dir)
    # The run's records (protobuf): the metric names and the config are in it once W&B's service process (it
    # writes after finish() returns) has caught up.
    data = eventually(log.read_bytes, lambda d: b"reward@t2" in d and b"grad_norm" in d and b"stage1_steps" in d)
    assert b"reward@t2" in data and b"grad_norm" in data and b"stage1_steps" in data
    api.train(load_config(TrainConfig, "train", [*overrides, "agent.stage2_steps=1", f"resume={run_dir}"]))
    assert len(wandb_logs(run_dir)) in (1, 2)  # resumed: the same W&B run id (W&B may start a new offline file)


def test_wandb_without_a_login_is_one_line_before_any_model(tmp_path, monkeypatch, capsys):
    for name in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    assert main(["train", "model=does/not-exist", "wandb=true", f"run_dir={tmp_path / 'r'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wandb=true needs a W&B login" in err and "WANDB_MODE=offline" in err
    assert not (tmp_path / "r").exists()


def test_the_run_id_is_the_run_directory_s(tmp_path):
    assert wandb_run_id(tmp_path / "a") == wandb_run_id(tmp_path / "x" / ".." / "a") != wandb_run_id(tmp_path / "b")
    assert len(wandb_run_id(tmp_path)) <= 64


def test_a_benchmark_logs_each_method_s_training_and_its_results_table(tiny_model_dir, tmp_path, offline):
    report = tmp_path / "report"
    small = ["eval_problems=4", "sampled_eval.problems=0", "scaling.problems=0", "ceiling_samples=0"]
    command = ["benchmark", "config=benchmark_quick", "methods=[prompting,score]", f"model={tiny_model_dir}"]
    assert (
        main([*command, *small, "probe_problems=0", "distribution_shift=false", f"report_dir={report}", "wandb=true"])
        == 0
    )
    assert wandb_logs(report / "seed-0" / "score" / "train")  # the trained method's run
    run = f"offline-run-*-{wandb_run_id(report / 'results')}"
    [table] = (report / "wandb").glob(f"{run}/files/media/table/results_*.table.json")  # the results, as W&B keeps them
    table = json.loads(table.read_text())
    assert table["columns"][:4] == ["method", "seed", "status", "acc@final"]
    assert [row[:3] for row in table["data"]] == [["prompting", 0, "done"], ["score", 0, "done"]]
