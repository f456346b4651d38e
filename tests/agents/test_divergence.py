"""A run whose loss or gradient stops being finite stops at that update, with one line, keeping its last good
checkpoint; a benchmark records the method as failed and goes on (issue #26)."""

from __future__ import annotations

import json
import math

import torch

from score_env.cli import main
from score_env.training.checkpoint import checkpoint_path, read_index
from tests.agents.conftest import TINY_TRAIN

HUGE_LR = ["agent=score", "agent.stage1_steps=3", "agent.stage2_steps=3", "agent.lr=1e30", "checkpoint_every=1"]


def test_a_diverging_run_stops_at_the_first_non_finite_update_and_keeps_its_last_good_checkpoint(
    tiny_model_dir, tmp_path, capsys
):
    run_dir = tmp_path / "run"
    assert main(["train", f"model={tiny_model_dir}", f"run_dir={run_dir}", *HUGE_LR, *TINY_TRAIN]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "score-env train:" in line]
    assert len(err) == 1 and "training diverged at update" in err[0] and "not finite" in err[0], err
    stopped = int(err[0].split("training diverged at update ")[1].split(":")[0])
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(1, stopped))  # every update before it, none after
    assert all(math.isfinite(v) for r in logged for v in r.values() if isinstance(v, float))
    index = read_index(run_dir)
    assert index is not None and index.checkpoints[-1].step == stopped - 1
    from safetensors.torch import load_file

    model = checkpoint_path(run_dir, "last") / "model"
    tensors = load_file(next(model.glob("*.safetensors")))
    assert all(torch.isfinite(t).all() for t in tensors.values())


def test_agent_floats_must_be_finite(tiny_model_dir, capsys):
    assert main(["train", f"model={tiny_model_dir}", "agent=score", "agent.lr=inf", *TINY_TRAIN]) == 2
    assert "config key 'agent.lr' = 'inf': Input should be a finite number" in capsys.readouterr().err


def test_a_benchmark_records_a_diverged_method_as_failed_and_goes_on(tmp_path):
    report = tmp_path / "report"
    argv = ["benchmark", "config=benchmark_quick", f"report_dir={report}", "methods=[prompting,score,sft]",
            "lrs.score=1e30", "scaling.problems=0", "distribution_shift=false"]  # fmt: skip
    assert main(argv) == 0
    results = {r["name"]: r for r in json.loads((report / "results.json").read_text())}
    assert results["score"]["status"] == "failed" and "training diverged at update" in results["score"]["error"]
    assert results["prompting"]["status"] != "failed" and results["sft"]["status"] != "failed"
