"""Resuming a killed training run reaches the same weights; the same code runs under accelerate launch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from score_env.cli import main
from score_env.training.checkpoint import checkpoint_path, read_index
from tests.agents.conftest import TINY_TRAIN, weights

ROOT = Path(__file__).parents[2]
SCORE = ["agent=score", "agent.stage1_steps=3", "agent.stage2_steps=3", "agent.lr=1e-3", "checkpoint_every=2"]


def train_command(model: Path, run_dir: Path) -> list[str]:
    # The coin task is registered by tests/agents/conftest.py, so the child imports it before the CLI runs.
    code = "import sys, tests.agents.conftest; from score_env.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "train", f"model={model}", f"run_dir={run_dir}", *SCORE, *TINY_TRAIN]


def test_a_killed_run_resumed_reaches_the_same_parameters(tiny_model_dir, tmp_path):
    whole = tmp_path / "whole"
    assert main(["train", f"model={tiny_model_dir}", f"run_dir={whole}", *SCORE, *TINY_TRAIN]) == 0

    broken = tmp_path / "broken"
    child = subprocess.Popen(
        train_command(tiny_model_dir, broken),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while getattr(read_index(broken), "last", None) != "step-000002":  # checkpointed and indexed
        assert child.poll() is None and time.monotonic() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)  # mid-run: after the step-2 checkpoint, before the end
    child.wait()
    assert read_index(broken).last != "step-000006"

    assert main(["train", f"model={tiny_model_dir}", f"resume={broken}", *SCORE, *TINY_TRAIN]) == 0
    expected = weights(checkpoint_path(whole, "last") / "model")
    resumed = weights(checkpoint_path(broken, "last") / "model")
    assert read_index(broken).last == "step-000006"
    assert all(torch.equal(expected[name], resumed[name]) for name in expected)
    # the log holds each step once (the steps after the checkpoint were redone, not appended twice), and the
    # training time goes on from the checkpoint's instead of restarting at 0
    records = [json.loads(line) for line in (broken / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    elapsed = [r["elapsed_s"] for r in records]
    assert elapsed == sorted(elapsed) and elapsed[2] > elapsed[1]


def test_run_files_are_readable_by_others(tiny_model_dir, tmp_path):
    """config.yaml, metrics.json and the checkpoint index are written atomically, yet 0644 like any file."""
    run_dir, eval_dir = tmp_path / "run", tmp_path / "eval"
    one_step = ["agent=score", "agent.stage1_steps=1", "agent.stage2_steps=0"]
    assert main(["train", f"model={tiny_model_dir}", f"run_dir={run_dir}", *one_step, *TINY_TRAIN]) == 0
    evaluate = ["eval", f"model={tiny_model_dir}", "env=coin-test", "split=train", "limit=2", "bootstrap=10"]
    assert main([*evaluate, f"run_dir={eval_dir}", "sampling.max_new_tokens=4"]) == 0
    for path in (run_dir / "config.yaml", run_dir / "checkpoints" / "index.json", eval_dir / "metrics.json"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask(), path


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_score_trains_under_accelerate_launch_with_two_cpu_processes(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "ddp"
    code = "import sys, tests.agents.conftest; from score_env.cli import main; sys.exit(main(sys.argv[1:]))"
    script = tmp_path / "train_entry.py"
    script.write_text(code.replace("; ", "\n"))
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--cpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(script),
        "train",
        f"model={tiny_model_dir}",
        f"run_dir={run_dir}",
        "agent=score",
        "agent.stage1_steps=1",
        "agent.stage2_steps=1",
        "checkpoint_every=1",
        *TINY_TRAIN,
    ]
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained 2 updates" in done.stdout
    assert "objective reward@t2: " in done.stdout and f"checkpoints: best {run_dir}" in done.stdout  # the summary
    assert [c.step for c in read_index(run_dir).checkpoints] == [1, 2]


def test_ctrl_c_checkpoints_the_update_under_way_and_resume_alone_continues(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    command = train_command(tiny_model_dir, run_dir)
    child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (run_dir / "metrics.jsonl").exists():  # training is under way
        assert child.poll() is None and time.monotonic() < deadline, "the run ended before its first update"
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert f"continue with: score-env train resume={run_dir}" in err.decode()
    stopped_at = read_index(run_dir).last
    assert stopped_at != "step-000006"  # stopped early, with the update under way checkpointed

    assert main(["train", f"resume={run_dir}"]) == 0  # alone: the run's own config
    assert read_index(run_dir).last == "step-000006"
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_only_the_latest_checkpoints_and_the_best_are_kept(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    argv = ["train", f"model={tiny_model_dir}", f"run_dir={run_dir}", *SCORE, *TINY_TRAIN]
    assert main([*argv, "checkpoint_every=1", "keep_checkpoints=2"]) == 0
    index = read_index(run_dir)
    kept = {c.name for c in index.checkpoints}
    assert kept == {"step-000005", "step-000006", index.best}
    assert {p.name for p in (run_dir / "checkpoints").iterdir() if p.is_dir()} == kept
