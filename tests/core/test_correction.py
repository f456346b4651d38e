"""Correction on fixed first attempts: fix and break rates against hand-computed values, and `score-env eval
first_attempts=<run dir>` replaying another run's first attempts."""

from __future__ import annotations

import json

import pytest

from score_env.cli import main
from score_env.correction import correction_rates
from score_env.records import Attempt, Episode, Grade, Message


def attempt(correct: bool, finish: str = "stop") -> Attempt:
    grade = Grade.ok("1") if correct else Grade.wrong("2")
    return Attempt((Message("user", "q"),), "text", (1,), (0.0,), finish, grade.reward, grade)


def test_fix_break_and_the_re_solve_control_by_hand():
    # fixed first attempts: problems 0-3 wrong, 4-5 right; attempt 2 fixes 0 and 1, breaks 4
    on_fixed = [Episode(f"p{i}", i, 0, (attempt(i >= 4), attempt(ok))) for i, ok in enumerate([1, 1, 0, 0, 0, 1])]
    # the model's own fresh first attempts: right on 0 and 2 (of the wrong four), on 4 and 5 too
    own = [Episode(f"p{i}", i, 0, (attempt(ok),)) for i, ok in enumerate([1, 0, 1, 0, 1, 1])]
    rates = correction_rates(on_fixed, own, n_bootstrap=200)
    assert (rates.n_wrong, rates.n_right) == (4, 2)
    assert rates.fix.value == 0.5 and rates.broken.value == 0.5 and rates.control.value == 0.5
    assert rates.fix_minus_control.value == 0.0
    assert rates.fix.low <= rates.fix.value <= rates.fix.high


def test_samples_average_per_problem_and_cut_attempts_are_counted():
    on_fixed = [
        Episode("p0", 0, s, (attempt(False), attempt(ok, "length" if s == 0 else "stop")))
        for s, ok in enumerate([1, 0])
    ] + [Episode("p1", 1, s, (attempt(True), attempt(True))) for s in range(2)]
    own = [Episode(f"p{i}", i, s, (attempt(False),)) for i in range(2) for s in range(2)]
    rates = correction_rates(on_fixed, own, n_bootstrap=50)
    assert rates.second_right == (0.5, 1.0) and rates.fix.value == 0.5 and rates.broken.value == 0.0
    assert rates.cut == 0.25 and rates.samples == 2


def test_no_wrong_first_attempt_leaves_the_fix_rate_undefined():
    on_fixed = [Episode("p0", 0, 0, (attempt(True), attempt(True)))]
    rates = correction_rates(on_fixed, [Episode("p0", 0, 0, (attempt(True),))])
    assert rates.fix is None and rates.control is None and rates.broken.value == 0.0


def test_eval_corrects_the_first_attempts_another_run_recorded(tmp_path, capsys):
    recorded = tmp_path / "recorded"
    assert main(["eval", "model=embedded", "limit=6", "max_attempts=1", f"run_dir={recorded}", "bootstrap=50"]) == 0
    out = tmp_path / "fixed"
    assert (
        main(["eval", "model=embedded", "limit=6", f"first_attempts={recorded}", f"run_dir={out}", "bootstrap=50"]) == 0
    )
    assert "fix rate" in capsys.readouterr().out
    before = [json.loads(line) for line in (recorded / "episodes.jsonl").open()]
    after = [json.loads(line) for line in (out / "episodes.jsonl").open()]
    assert [e["attempts"][0]["text"] for e in after] == [e["attempts"][0]["text"] for e in before]
    assert all(len(e["attempts"]) == 2 for e in after)
    rates = json.loads((out / "correction.json").read_text())
    assert rates["problems"] == list(range(6))
    assert rates["first_right"] == [e["attempts"][0]["grade"]["correct"] for e in before]


@pytest.mark.parametrize(
    ("value", "says"),
    [("nowhere", "no episodes.jsonl in 'nowhere'"), ("{recorded}", "was recorded on other problems")],
)
def test_a_bad_first_attempts_directory_is_one_line_before_any_model_loads(tmp_path, capsys, value, says):
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    other = Episode("arithmetic/test/0", 0, 0, (attempt(True),))
    (recorded / "episodes.jsonl").write_text(json.dumps(other.to_json()) + "\n")
    argv = ["eval", "model=embedded", f"first_attempts={value.format(recorded=recorded)}", f"run_dir={tmp_path / 'r'}"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and err[0].startswith("score-env eval: error: first_attempts=")
    assert not (tmp_path / "r").exists()
