"""SCoRe keeps two episodes per update in ``samples.jsonl`` (for ``score-env view``), bounded and cut back on resume."""

from __future__ import annotations

from collections import Counter

from score_env import api
from score_env.config import TrainConfig, load_config
from score_env.layout import TrainLayout
from score_env.runs import read_jsonl
from score_env.training.session import SAMPLES_PER_STEP
from score_env.view.sources import read_run
from tests.agents.conftest import TINY_TRAIN


def test_score_records_two_episodes_per_update_and_view_shows_them(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    argv = ["agent=score", "agent.stage1_steps=2", "agent.stage2_steps=2", f"model={tiny_model_dir}", *TINY_TRAIN]
    run = api.train(load_config(TrainConfig, "train", [*argv, f"run_dir={run_dir}"]))
    samples = read_jsonl(TrainLayout(run_dir).samples_log)
    assert Counter(s["step"] for s in samples) == {step: SAMPLES_PER_STEP for step in (1, 2, 3, 4)}
    assert [s["stage"] for s in samples[::2]] == ["stage1", "stage1", "stage2", "stage2"]
    attempts = [a for s in samples for a in s["episode"]["attempts"]]
    assert all(a["token_ids"] == [] and a["logprobs"] == [] for a in attempts)  # bounded: no per-token data
    assert all(s["episode"]["attempts"][0]["prompt"] and not s["episode"]["attempts"][1]["prompt"] for s in samples)

    page = read_run(run_dir)
    assert page.kind == "train" and page.figures[0].svg.startswith("<svg")
    assert [len(r.episodes) for r in page.runs] == [2, 2, 4]  # early, middle, late thirds of steps 1-4
    assert page.runs[0].episodes[0].caption == "step 1, stage1"

    run.session._cut_metrics_after(2)  # what a resume from the step-2 checkpoint does before playing 3 and 4 again
    assert {s["step"] for s in read_jsonl(TrainLayout(run_dir).samples_log)} == {1, 2}
