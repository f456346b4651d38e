"""Self-correction metrics against hand-computed values (docs/paper.md, "Metrics")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from score_env.metrics import edit_distance_ratio, self_correction_metrics
from score_env.records import Attempt, Episode, Grade


def attempt(correct: bool, text: str = "", answer: str | None = "1", tokens: int = 3) -> Attempt:
    grade = Grade.ok(answer) if correct else (Grade.wrong(answer) if answer else Grade.unparsable())
    return Attempt((), text, tuple(range(tokens)), (0.0,) * tokens, "stop", grade.reward, grade)


def episodes_from(outcomes, problem_ids=None) -> list[Episode]:
    return [
        Episode(problem_ids[i] if problem_ids else f"p{i}", i, 0, tuple(attempt(bool(c)) for c in row))
        for i, row in enumerate(outcomes)
    ]


def values(outcomes, **kwargs):
    report = self_correction_metrics(episodes_from(outcomes), **kwargs)
    return {name: e.value for name, e in report.estimates.items()}, report


def test_one_episode_of_each_kind():
    # right->right, right->wrong, wrong->right, wrong->wrong
    v, report = values([(1, 1), (1, 0), (0, 1), (0, 0)])
    assert (v["acc@t1"], v["acc@t2"], v["delta"], v["delta_i_to_c"], v["delta_c_to_i"]) == (0.5, 0.5, 0, 0.25, 0.25)
    assert report.counts == {"correct_t1": 2, "correct_t2": 2, "n_i_to_c": 1, "n_c_to_i": 1, "cut_t1": 0, "cut_t2": 0}


def test_a_model_that_fixes_two_of_four():
    v, _ = values([(0, 1), (0, 1), (1, 1), (0, 0)])
    assert (v["acc@t1"], v["acc@t2"], v["delta"], v["delta_i_to_c"], v["delta_c_to_i"]) == (0.25, 0.75, 0.5, 0.5, 0)


@pytest.mark.parametrize("seed", range(20))
def test_delta_is_i_to_c_minus_c_to_i(seed):
    rng = np.random.default_rng(seed)
    outcomes = rng.integers(0, 2, size=(int(rng.integers(1, 300)), 2))
    v, report = values(outcomes, n_bootstrap=10)
    c = report.counts
    assert c["correct_t2"] - c["correct_t1"] == c["n_i_to_c"] - c["n_c_to_i"]  # exact, in integers
    assert math.isclose(v["delta"], v["delta_i_to_c"] - v["delta_c_to_i"], abs_tol=1e-15)
    assert math.isclose(v["delta"], v["acc@t2"] - v["acc@t1"], abs_tol=1e-15)


def test_three_attempts_compare_first_and_last():
    v, _ = values([(0, 0, 1), (1, 1, 0)])
    assert (v["acc@t1"], v["acc@t2"], v["acc@t3"], v["delta_i_to_c"], v["delta_c_to_i"]) == (0.5, 0.5, 0.5, 0.5, 0.5)


@pytest.mark.parametrize(
    ("y1", "y2", "ratio"),
    [
        ("abc", "abc", 0.0),  # unchanged
        ("abc", "xyz", 1.0),  # nothing shared: delete 3, insert 3, over 6
        ("abc", "abd", 2 / 6),  # substitute = delete + insert
        ("abc", "abcd", 1 / 7),  # one insertion
        ("", "", 0.0),
        ("", "ab", 1.0),
    ],
)
def test_edit_distance_ratio_is_insert_delete_distance_over_total_length(y1, y2, ratio):
    assert edit_distance_ratio(y1, y2) == pytest.approx(ratio)


def test_answer_changed_and_lengths_and_edit_ratio():
    episodes = [
        Episode("a", 0, 0, (attempt(False, "x", "1", 2), attempt(True, "x", "1", 4))),
        Episode("b", 1, 0, (attempt(False, "abc", "2", 6), attempt(False, "xyz", None, 8))),
    ]
    v = {n: e.value for n, e in self_correction_metrics(episodes).estimates.items()}
    assert v["answer_changed"] == 0.5  # "1" -> "1" kept; "2" -> unparsable changed
    assert (v["tokens@t1"], v["tokens@t2"]) == (4.0, 6.0)
    assert v["edit_distance_ratio"] == 0.5


def test_confidence_intervals_bracket_the_estimate_and_collapse_without_variance():
    rng = np.random.default_rng(0)
    _, report = values(rng.integers(0, 2, size=(200, 2)))
    for estimate in report.estimates.values():
        assert estimate.low <= estimate.value <= estimate.high
    acc = report.estimates["acc@t1"]
    assert 0.05 < acc.high - acc.low < 0.2  # binomial scale at n=200: about ±0.07
    _, constant = values([(1, 1)] * 10)
    assert constant.estimates["acc@t1"] == type(acc)(1.0, 1.0, 1.0)


def test_bootstrap_resamples_problems_not_samples():
    # Two problems, 50 samples each: one always right, one always wrong. Resampling problems gives a wide interval
    # (the estimate rests on two problems); resampling episodes would give a falsely narrow one.
    outcomes = [(1, 1)] * 50 + [(0, 0)] * 50
    report = self_correction_metrics(episodes_from(outcomes, ["p"] * 50 + ["q"] * 50))
    acc = report.estimates["acc@t1"]
    assert report.problems == 2 and (acc.low, acc.high) == (0.0, 1.0)


def test_reason_counts_and_bad_input():
    _, report = values([(1, 0), (0, 0)])
    assert report.reasons == {"t1": {"ok": 1, "wrong": 1}, "t2": {"wrong": 2}}
    with pytest.raises(ValueError, match="no episodes"):
        self_correction_metrics([])
    with pytest.raises(ValueError, match="at least one attempt"):
        self_correction_metrics(episodes_from([(1, 0), ()]))


def test_episodes_that_stop_early_are_judged_by_their_final_answer():
    # wrong then right (2 attempts); right and stopped (1); wrong, wrong, right (3): the model decided the length
    v, report = values([(0, 1), (1,), (0, 0, 1)])
    assert v["acc@t1"] == pytest.approx(1 / 3) and v["acc@final"] == 1.0 == v["acc@t3"]
    assert v["acc@t2"] == pytest.approx(2 / 3)  # the stopped episode keeps its right answer; the third is still wrong
    assert v["attempts"] == 2.0 and v["delta_i_to_c"] == pytest.approx(2 / 3) and v["delta_c_to_i"] == 0
    assert report.reasons["t3"] == {"ok": 1}  # only the episode that made a third attempt


def test_verdict_accuracy_and_its_recall_on_right_and_wrong_attempts():
    said_correct_on_right = Grade.ok("correct")  # a verdict's grade says whether the verdict was right
    said_correct_on_wrong = Grade.wrong("correct")
    said_wrong_on_wrong = Grade.ok("wrong")
    verdict = {g: Attempt((), "", (), (), "stop", g.reward, g) for g in (said_correct_on_right, said_correct_on_wrong,
               said_wrong_on_wrong)}  # fmt: skip
    episodes = [
        Episode("a", 0, 0, (attempt(True),), (verdict[said_correct_on_right],)),
        Episode("b", 1, 0, (attempt(False),), (verdict[said_correct_on_wrong],)),
        Episode("c", 2, 0, (attempt(False), attempt(True)), (verdict[said_wrong_on_wrong],)),
    ]
    v = {n: e.value for n, e in self_correction_metrics(episodes, n_bootstrap=10).estimates.items()}
    assert v["verdict_accuracy"] == pytest.approx(2 / 3)
    assert v["verdict_recall_right"] == 1.0 and v["verdict_recall_wrong"] == 0.5


def test_acc_runs_up_to_the_allowed_attempts_when_every_episode_stopped_early():
    """A verify-then-revise model that always says "correct" stops every episode after attempt 1: Acc@t2 (the
    answer standing at attempt 2) still exists and equals Acc@t1."""
    v, report = values([(1,), (0,), (1,)], attempts=2)
    assert v["acc@t2"] == v["acc@t1"] == v["acc@final"] == pytest.approx(2 / 3)
    assert v["delta"] == 0 and v["attempts"] == 1 and report.counts["correct_t2"] == 2
    assert "tokens@t2" not in v and all(math.isfinite(x) for x in v.values())  # no attempt 2: no length (not NaN)
    assert "acc@t2" not in values([(1,), (0,)])[0]  # without the allowance, one attempt is all there is


def test_a_metric_with_nothing_to_measure_is_left_out_not_nan():
    """Self-verdicts only on right attempts: the recall on wrong attempts has no denominator."""
    right = attempt(True)
    verdict = attempt(True, text="correct")
    episodes = [Episode(f"p{i}", i, 0, (right,), (verdict,)) for i in range(3)]
    v = {n: e.value for n, e in self_correction_metrics(episodes, attempts=2, n_bootstrap=10).estimates.items()}
    assert "verdict_recall_wrong" not in v and v["verdict_recall_right"] == 1.0
    assert all(math.isfinite(x) for x in v.values())
