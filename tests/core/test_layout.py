"""The run-directory layouts name the files every run has always written; the checkpoint index keeps its JSON; the
one JSONL reader drops a torn last line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from score_env.layout import BenchmarkLayout, EvalLayout, MethodLayout, SweepLayout, TrainLayout
from score_env.runs import read_jsonl
from score_env.training.checkpoint import CheckpointEntry, CheckpointIndex, checkpoint_path, read_index

R = Path("run")
REPORT = BenchmarkLayout(R)
METHOD = REPORT.method(3, "score")

# (path from a layout, the path relative to the run directory): the names on disk, which must never change.
PATHS = [
    (EvalLayout(R).config, "config.yaml"),
    (EvalLayout(R).episodes, "episodes.jsonl"),
    (EvalLayout(R).metrics, "metrics.json"),
    (EvalLayout(R).model, "model.json"),  # eval of a training run: which checkpoint
    (EvalLayout(R).correction, "correction.json"),  # eval with first_attempts=
    (EvalLayout(R).own_first.episodes, "own-first/episodes.jsonl"),
    (EvalLayout(R).view, "view.html"),
    (EvalLayout(R).metrics_regraded, "metrics.regraded.json"),  # score-env regrade
    (EvalLayout(R).regrade_changes, "regrade_changes.jsonl"),
    (EvalLayout(R).correction_regraded, "correction.regraded.json"),
    (TrainLayout(R).metrics_log, "metrics.jsonl"),
    (TrainLayout(R).samples_log, "samples.jsonl"),
    (TrainLayout(R).probes_log, "probes.jsonl"),
    (TrainLayout(R).alarms, "alarms.txt"),
    (TrainLayout(R).tensorboard, "tensorboard"),
    (TrainLayout(R).wandb, "wandb"),
    (TrainLayout(R).data("sft"), "data/sft.json"),
    (TrainLayout(R).checkpoint_index, "checkpoints/index.json"),
    (TrainLayout(R).checkpoint(TrainLayout.checkpoint_name(12)).model, "checkpoints/step-000012/model"),
    (TrainLayout(R).checkpoint("step-000012").state, "checkpoints/step-000012/state.pt"),
    (TrainLayout(R).checkpoint_tmp(12).root, "checkpoints/.step-000012.tmp"),
    (REPORT.config, "config.yaml"),
    (REPORT.results, "results.json"),
    (REPORT.results_md, "results.md"),
    (REPORT.first_attempts.episodes, "first-attempts/episodes.jsonl"),
    (REPORT.first_attempts.profile, "first-attempts/profile.json"),
    (REPORT.validation_first_attempts.root, "validation-first-attempts"),
    (REPORT.training_curves_plot, "training_curves.png"),
    (METHOD.result, "seed-3/score/result.json"),
    (METHOD.error, "seed-3/score/error.txt"),
    (METHOD.profile, "seed-3/score/profile.json"),
    (METHOD.train.metrics_log, "seed-3/score/train/metrics.jsonl"),
    (METHOD.eval.episodes, "seed-3/score/eval/episodes.jsonl"),
    (METHOD.fixed.episodes, "seed-3/score/fixed/episodes.jsonl"),
    (METHOD.sampled.metrics, "seed-3/score/sampled/metrics.json"),
    (METHOD.sampled_fixed.episodes, "seed-3/score/sampled/fixed/episodes.jsonl"),
    (METHOD.scaling.two.root, "seed-3/score/analyses/scaling/two"),
    (METHOD.scaling.one.root, "seed-3/score/analyses/scaling/one"),
    (METHOD.ceiling.root, "seed-3/score/analyses/ceiling"),
    (SweepLayout(R).scores, "sweep.json"),
    (SweepLayout(R).lrs, "lrs.yaml"),
    (SweepLayout(R).run("star", 1e-5).result, "star/lr-1e-05/result.json"),
]


@pytest.mark.parametrize(("path", "expected"), PATHS, ids=[e for _, e in PATHS])
def test_a_layout_names_the_files_runs_write(path, expected):
    assert path == R / expected


def test_the_benchmark_layout_finds_the_methods_finished_so_far(tmp_path):
    report = BenchmarkLayout(tmp_path)
    for seed, name in ((1, "star"), (0, "score"), (0, "prompting")):
        report.method(seed, name).root.mkdir(parents=True)
        report.method(seed, name).result.write_text("{}")
    report.method(0, "sft").root.mkdir()  # failed: no result.json
    assert report.method_results() == [report.method(s, n).result for s, n in ((0, "prompting"), (0, "score"))] + [
        MethodLayout(tmp_path / "seed-1" / "star").result
    ]


# What checkpoint.py wrote before the index was typed, byte for byte (json.dumps of the dict, indent=2).
INDEX_JSON = """{
  "checkpoints": [
    {
      "name": "step-000002",
      "step": 2,
      "train_reward": 0.75
    },
    {
      "name": "step-000004",
      "step": 4,
      "train_reward": 0.5
    }
  ],
  "best": "step-000002",
  "last": "step-000004"
}"""


def test_the_checkpoint_index_reads_and_writes_the_same_json(tmp_path):
    index = CheckpointIndex(
        (CheckpointEntry("step-000002", 2, 0.75), CheckpointEntry("step-000004", 4, 0.5)), "step-000002", "step-000004"
    )
    assert index.to_json() == INDEX_JSON
    layout = TrainLayout(tmp_path)
    layout.checkpoints.mkdir()
    layout.checkpoint_index.write_text(INDEX_JSON)
    assert read_index(tmp_path) == index
    assert checkpoint_path(tmp_path, "best") == layout.checkpoint("step-000002").root
    assert checkpoint_path(tmp_path, "last") == layout.checkpoint("step-000004").root


def test_no_index_before_the_first_checkpoint(tmp_path):
    assert read_index(tmp_path) is None
    with pytest.raises(FileNotFoundError):
        checkpoint_path(tmp_path, "last")


def test_the_jsonl_reader_drops_a_torn_last_line_only(tmp_path):
    log = TrainLayout(tmp_path).metrics_log
    assert read_jsonl(log) == []  # none yet
    rows = [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]
    whole = "".join(json.dumps(r) + "\n" for r in rows)
    log.write_text(whole + '{"step": 3, "lo')  # the process died mid-write
    assert read_jsonl(log) == rows
    log.write_text('{"step": 0, "lo\n' + whole)  # torn, then written after: the file is damaged, not torn
    with pytest.raises(json.JSONDecodeError):
        read_jsonl(log)
