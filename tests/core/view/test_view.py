"""``score-env view`` without a browser: the diff, the transitions, what the page embeds, the run kinds, mistakes."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from score_env.benchmark.results import MethodFailure, outcomes_json
from score_env.cli import main
from score_env.config import ConfigError
from score_env.view import write_view
from score_env.view.diff import TOKEN, changed_ranges
from score_env.view.html import embed_json
from score_env.view.model import transition
from score_env.view.sources import read_run
from tests.core.view.conftest import HOSTILE, write_eval_run, write_report


def cut(text: str, ranges: list[int]) -> list[str]:
    """The pieces of ``text`` at UTF-16 ranges, as the page's script slices them."""
    units = text.encode("utf-16-le")
    return [units[2 * s : 2 * e].decode("utf-16-le") for s, e in zip(ranges[::2], ranges[1::2], strict=True)]


@pytest.mark.parametrize(
    ("before", "after", "removed", "added"),
    [
        # one wrong step fixed: the step's result and the answer, nothing else
        ("3 * 8 = 24. 7 + 24 = 30. Answer: 30", "3 * 8 = 24. 7 + 24 = 31. Answer: 31", ["30", "30"], ["31", "31"]),
        ("Answer: 5", "Answer: 5", [], []),  # copied verbatim: nothing marked
        ("a b", "a b c", [], [" c"]),  # an addition only
        ("x 🙂 y = 1", "x 🙂 y = 2", ["1"], ["2"]),  # an emoji before the change: UTF-16 offsets stay right
    ],
)
def test_changed_ranges_mark_the_changed_words(before, after, removed, added):
    old, new = changed_ranges(before, after)
    assert cut(before, old) == removed and cut(after, new) == added


def test_tokens_cover_every_character():
    text = "déjà vu 🙂\n\tx_1 = (a+b)/2; \\boxed{3}"
    assert "".join(TOKEN.findall(text)) == text


@pytest.mark.parametrize(
    ("correct", "texts", "expected"),
    [
        ([False, True], ["a", "b"], "i2c"),
        ([True, False], ["a", "b"], "c2i"),
        ([False, False], ["a", "b"], "i2i_changed"),
        ([False, False], ["a", "a"], "i2i_same"),
        ([True, True], ["a", "a"], "c2c"),
        ([True], ["a"], "right"),
        ([False, True, False], ["a", "b", "a"], "i2i_same"),  # first against last
    ],
)
def test_transition(correct, texts, expected):
    assert transition(correct, texts) == expected


def test_embedded_json_cannot_end_its_script_element():
    data = {"text": HOSTILE + " <!-- & \u2028"}
    embedded = embed_json(data)
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == data


def test_the_filter_counts_of_a_benchmark_are_the_metrics_counts(hand_report):
    report_dir, outcomes = hand_report
    page = read_run(report_dir)
    assert [r.label for r in page.runs] == list(outcomes)
    for run in page.runs:
        counts = Counter(e.transition for e in run.episodes)
        report = outcomes[run.label].report
        assert counts["i2c"] == report.counts["n_i_to_c"] == round(report.estimates["delta_i_to_c"].value * 6)
        assert counts["c2i"] == report.counts["n_c_to_i"]
        assert counts["c2c"] + counts["c2i"] == report.counts["correct_t1"]
    assert len(page.problems) == 6  # each problem's text once, however many methods played it


def test_the_page_keeps_what_a_reader_needs_and_escapes_model_output(hand_report):
    report_dir, _ = hand_report
    html = write_view(report_dir).read_text()
    assert "token_ids" not in html and "logprobs" not in html  # stripped
    assert "window.pwned = 1</script>" not in html and "<img src=x" not in html  # only escaped forms
    assert html.count("</script>") == 2  # the data's element and the script's, nothing from the data
    assert "Traceback ...\\nAssertionError" in html and '"sandbox":"bwrap"' in html
    assert re.search(r"<td>score</td><td>50\.0 <small>", html)  # the results table: score's Acc@t1


def test_an_eval_run_has_its_page(tmp_path, capsys):
    write_eval_run(tmp_path / "eval")
    assert main(["view", str(tmp_path / "eval")]) == 0
    path = tmp_path / "eval" / "view.html"
    assert capsys.readouterr().out.strip() == str(path)
    page = read_run(tmp_path / "eval")
    assert page.kind == "eval" and Counter(e.transition for e in page.runs[0].episodes)["i2c"] == 3


def test_view_open_opens_a_browser(hand_report, monkeypatch, capsys):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert main(["view", str(hand_report[0]), "--open"]) == 0
    assert opened == [(hand_report[0] / "view.html").resolve().as_uri()]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "is a file"),
        (lambda p: p, "holds no score-env run"),
    ],
)
def test_a_path_that_is_no_run_is_refused_in_one_line(tmp_path, capsys, make, message):
    with pytest.raises(ConfigError, match=message):
        read_run(make(tmp_path))
    assert main(["view", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("score-env view: error: ") and message in err and err.count("\n") == 1


def test_view_takes_one_directory(capsys):
    assert main(["view"]) == 2 and main(["view", "a", "b"]) == 2 and main(["view", "a", "--wide"]) == 2
    assert main(["view", "--help"]) == 0 and "score-env view <run dir or validate.json>" in capsys.readouterr().out


def test_a_failed_or_unfinished_method_is_said_so(tmp_path):
    outcomes = write_report(tmp_path / "report")
    failed = (outcomes["prompting"], MethodFailure("score", 0, "RuntimeError: broken"))
    (tmp_path / "report" / "results.json").write_bytes(outcomes_json(failed))
    page = read_run(tmp_path / "report")
    assert [r.label for r in page.runs] == ["prompting"] and page.results[1].error == "RuntimeError: broken"
    assert "failed: RuntimeError: broken" in write_view(tmp_path / "report").read_text()

    (tmp_path / "report" / "results.json").unlink()  # the benchmark still runs: its finished methods are shown
    (tmp_path / "report" / "seed-0" / "score" / "result.json").unlink()
    page = read_run(tmp_path / "report")
    assert [r.label for r in page.runs] == ["prompting"]
    assert page.notes[0].startswith("Not finished, not shown: score (seed 0) (under way, or stopped: ")

    (tmp_path / "report" / "seed-0" / "prompting" / "result.json").unlink()  # started, nothing finished yet
    page = read_run(tmp_path / "report")
    assert page.runs == () and page.notes[0].startswith("Not finished, not shown: prompting (seed 0), score (seed 0)")
    assert "Not finished, not shown" in write_view(tmp_path / "report").read_text()
