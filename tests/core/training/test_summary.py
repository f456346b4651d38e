"""The summary every training run ends with, computed by hand on tiny logs."""

from __future__ import annotations

import json

import pytest

from score_env.layout import TrainLayout
from score_env.training.summary import change_interval, early_late, objective_key, summarise


def write_log(run_dir, records):
    run_dir.mkdir(parents=True, exist_ok=True)
    TrainLayout(run_dir).metrics_log.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_the_objective_is_the_rewarded_attempt_or_the_loss():
    assert objective_key([{"reward@t1": 0, "reward@t2": 1, "loss": 2}]) == "reward@t2"
    assert objective_key([{"reward@t1": 0, "loss": 2}]) == "reward@t1"
    assert objective_key([{"reward@final": 1, "reward@t2": 0}]) == "reward@final"
    assert objective_key([{"loss": 2}]) == "loss"
    with pytest.raises(ValueError, match="no reward or loss"):
        objective_key([{"grad_norm": 1}])


def test_early_and_late_are_the_first_and_last_fifth_at_least_two():
    records = [{"r": float(i)} for i in range(10)]
    assert early_late(records, "r") == ([0.0, 1.0], [8.0, 9.0])
    records = [{"r": float(i)} for i in range(20)]
    assert early_late(records, "r") == ([0.0, 1.0, 2.0, 3.0], [16.0, 17.0, 18.0, 19.0])


def test_the_change_interval_is_welch_by_hand():
    change, low, high = change_interval([0.0, 1.0], [2.0, 3.0])
    half = 1.96 * (0.5 / 2 + 0.5 / 2) ** 0.5  # each sample's variance is 0.5
    assert change == 2.0 and low == pytest.approx(2.0 - half) and high == pytest.approx(2.0 + half)


def test_a_run_summary_reads_its_log(tmp_path):
    records = [
        {"step": s, "reward@t1": 0.5, "reward@t2": 0.4 + 0.1 * (s > 5), "loss": 1.0, "elapsed_s": 12.0 * s}
        for s in range(1, 11)
    ]
    write_log(tmp_path, records)
    summary = summarise(tmp_path)
    assert (summary.updates, summary.elapsed_s, summary.objective) == (10, 120.0, "reward@t2")
    assert summary.early == pytest.approx(0.4) and summary.late == pytest.approx(0.5)
    assert summary.delta_early == pytest.approx(-0.1) and summary.delta_late == pytest.approx(0.0)
    text = "\n".join(summary.lines())
    assert "trained 10 updates in 2 min 0 s" in text and "objective reward@t2: 0.4 " in text
    assert "change +0.1 [95% interval +0.1, +0.1]: it rises\n" in text  # no spread within either fifth
    assert "training Δ (reward@t2 − reward@t1): -0.100 -> +0.000" in text
    assert summary.best is None and "checkpoints" not in text  # none written here


def test_a_loss_that_does_not_clearly_fall_says_so(tmp_path):
    write_log(tmp_path, [{"step": s, "loss": [1.0, 0.0][s % 2], "elapsed_s": 1.0} for s in range(1, 11)])
    text = "\n".join(summarise(tmp_path).lines())
    assert "objective loss:" in text and "it falls only within the noise, if at all" in text
    assert "training Δ" not in text


def test_a_run_with_no_update_has_no_objective(tmp_path):
    summary = summarise(tmp_path)
    assert (summary.updates, summary.objective) == (0, None)
    assert summary.lines()[0].startswith("trained 0 updates")
