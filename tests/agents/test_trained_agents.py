"""Every trained agent, one short run each on a tiny model: the parameters change, the run directory is complete."""

from __future__ import annotations

import json

import pytest

from score_env.cli import main
from score_env.training.checkpoint import checkpoint_path, read_index
from tests.agents.conftest import TINY_TRAIN


@pytest.mark.parametrize(
    ("agent", "extra"),
    [
        ("score", ["agent.stage1_steps=1", "agent.stage2_steps=1", "agent.lr=1e-3"]),
        ("score_single_turn", ["agent.stage1_steps=1", "agent.stage2_steps=0", "agent.lr=1e-3"]),
        ("score_no_stage1", ["agent.stage2_steps=1", "agent.lr=1e-3"]),
        ("score_no_shaping", ["agent.stage1_steps=1", "agent.stage2_steps=1", "agent.lr=1e-3"]),
        ("score", ["agent.stage1_steps=0", "agent.stage2_steps=1", "agent.base_first_attempt_fraction=0.5"]),
        ("sft", ["agent.problems=8", "agent.batch_size=4", "agent.lr=1e-3"]),
        ("star_plus", ["agent.problems=8", "agent.iterations=1", "agent.batch_size=4", "agent.lr=1e-3"]),
        ("score_three", ["agent.stage1_steps=2", "agent.stage2_steps=1", "agent.lr=1e-3"]),
        ("pag", ["agent.steps=2", "agent.lr=1e-3"]),
        ("multi_attempt", ["agent.steps=2", "agent.lr=1e-3"]),
        ("self_rewarding", ["agent.sft_problems=8", "agent.batch_size=4", "agent.rl_steps=2", "agent.lr=1e-3"]),
    ],
)
def test_one_short_run_changes_the_parameters(agent, extra, tiny_model_dir, tmp_path, changed):
    run_dir = tmp_path / "run"
    assert main(["train", f"agent={agent}", f"model={tiny_model_dir}", f"run_dir={run_dir}", *TINY_TRAIN, *extra]) == 0
    index = read_index(run_dir)
    assert index and index.checkpoints
    assert changed(tiny_model_dir, checkpoint_path(run_dir, "last") / "model")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert records and all("loss" in r and "step" in r for r in records)
    if agent.startswith("score"):
        assert {"reward@t1", "kl@t1"} <= set(records[0])
    if agent in ("pag", "multi_attempt"):
        assert {"reward@t1", "reward@final", "attempts"} <= set(records[0])
    if agent == "self_rewarding":  # the fine-tuning's updates (if it kept any trajectory), then the RL's
        assert {"reward@t1", "reward@final", "attempts"} <= set(records[-1])
        assert records[-1]["stage"] == "self-rewarding-rl"


def test_score_logs_both_stages_and_eval_takes_the_run_directory(tiny_model_dir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = [
        "train",
        "agent=score",
        f"model={tiny_model_dir}",
        f"run_dir={run_dir}",
        "checkpoint_every=1",
        "keep_checkpoints=4",
        "agent.stage1_steps=2",
        "agent.stage2_steps=2",
        *TINY_TRAIN,
    ]
    assert main(argv) == 0
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["stage1", "stage1", "stage2", "stage2"]
    assert {"reward@t1", "reward@t2", "delta", "kl@t1", "kl@t2", "answer_changed", "tokens@t2", "loss"} <= set(
        records[0]
    )
    index = read_index(run_dir)
    assert index is not None and [c.step for c in index.checkpoints] == [1, 2, 3, 4]
    best = max(index.checkpoints, key=lambda c: (c.train_reward, c.step))
    assert index.best == best.name and index.last == "step-000004"
    assert (
        main(
            [
                "eval",
                f"model={run_dir}",
                "env=coin-test",
                "split=train",
                "limit=3",
                "sampling.max_new_tokens=4",
                f"run_dir={tmp_path / 'eval'}",
                "bootstrap=10",
            ]
        )
        == 0
    )
    assert "Acc@t1" in capsys.readouterr().out


def test_lora_trains_an_adapter_against_the_base_with_the_adapter_off(tiny_model_dir, tmp_path):
    pytest.importorskip("peft")
    from safetensors.torch import load_file

    run_dir = tmp_path / "lora"
    argv = [
        "train",
        "agent=score",
        f"model={tiny_model_dir}",
        f"run_dir={run_dir}",
        "lora.rank=4",
        "agent.stage1_steps=1",
        "agent.stage2_steps=1",
        "agent.lr=1e-2",
        *TINY_TRAIN,
    ]
    assert main(argv) == 0
    adapter = load_file(str(checkpoint_path(run_dir, "last") / "model" / "adapter_model.safetensors"))
    assert adapter and all("lora" in name for name in adapter)
    assert any(t.abs().sum() > 0 for name, t in adapter.items() if "lora_B" in name)  # B starts at zero
    assert (
        main(
            [
                "eval",
                f"model={run_dir}",
                "env=coin-test",
                "split=train",
                "limit=2",
                "sampling.max_new_tokens=4",
                f"run_dir={tmp_path / 'eval'}",
                "bootstrap=10",
            ]
        )
        == 0
    )


def test_prompting_cannot_be_trained(tiny_model_dir, capsys):
    assert main(["train", "agent=prompting", f"model={tiny_model_dir}", *TINY_TRAIN]) == 2
    err = capsys.readouterr().err
    assert "agent kind 'prompting' trains nothing: this command needs one that trains: multi_attempt, pag" in err
