"""``score-env view`` on a validate run (issue 27, item 4): the checks table, every failing check's examples with
their hostile answers shown as escaped text, what was validated; from the run directory or its ``validate.json``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from score_env.cli import main
from score_env.config import ConfigError
from score_env.validation import CheckResult, Example, ValidationReport
from score_env.view import write_view
from score_env.view.sources import read_run
from tests.core.view.conftest import needs_chromium, open_page
from tests.hostile import HOSTILE, MEGABYTE

LATENCY = {"p50_s": 0.0015, "p99_s": 0.02, "max_s": 0.25, "per_second": 480.0, "answers": 78.0}
PASSING = ValidationReport(
    env_id="score/Arithmetic-v0",
    split="test",
    env_kwargs={},
    problems=("arithmetic/test/197", "arithmetic/test/388"),
    seed=0,
    checks=(
        CheckResult("completeness", "pass", 2, note="every reference earns 1"),
        CheckResult("floor", "pass", 21, note="answers that solve nothing earn 0, never error"),
        CheckResult("intrinsic leak", "skip", 0, note="no reference answer to make a right attempt 1 with"),
    ),
    latency=LATENCY,
)
# Every family of hostile text as an answer that a broken grader paid for; the megabyte one also as a detail.
HOSTILE_EXAMPLES = tuple(
    Example(f"hostile/{n}", kind, text, 1.0, "ok", 0.0004, detail=text if kind == "megabyte line" else "")
    for n, (kind, text) in enumerate(HOSTILE.items())
)
FAILING = ValidationReport(
    env_id="score/Code-v0",
    split="test",
    env_kwargs={"sandbox": "subprocess", "note": "</script><b>kw</b>"},
    problems=tuple(f"code/test/{i}" for i in range(3)),
    seed=7,
    checks=(
        CheckResult("completeness", "pass", 3, note="every reference earns 1"),
        CheckResult("canaries", "fail", 13, 9, HOSTILE_EXAMPLES, "the code family's and the task's own"),
        CheckResult(
            "bounds", "fail", 40, 1, (Example("code/test/1", "grading", "", None, "hung", 90.0, "</script>hung"),)
        ),
    ),
    backend="subprocess",
    latency=LATENCY,
)


def write_report(run_dir: Path, report: ValidationReport, name: str = "validate.json") -> Path:
    """``report`` as ``score-env validate`` writes it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / name
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def test_a_passing_run_shows_its_table_and_what_was_validated(tmp_path):
    write_report(tmp_path / "va", PASSING)
    html = write_view(tmp_path / "va").read_text(encoding="utf-8")
    assert read_run(tmp_path / "va").kind == "validate"
    for row in (("floor", "grade ok", "PASS", "21/21"), ("intrinsic leak", "skipped", "SKIP", "–")):
        assert re.search(r'<tr><td>{}</td><td><span class="{}">{}</span></td><td>{}</td>'.format(*row), html), row
    assert "no reference answer to make a right attempt 1 with" in html
    assert "score/Arithmetic-v0 (test): passed" in html and "env_kwargs none" in html
    assert "2 problem(s) sampled with seed 0: arithmetic/test/197, arithmetic/test/388" in html
    assert "p50 1.5 ms, p99 20.0 ms, max 0.25 s, 480.0 answers/s, over 78 answers" in html
    assert 'id="failing-' not in html and 'class="note"' not in html  # nothing failed: no examples, no warning


def test_a_failing_run_shows_every_failing_example_with_hostile_text_escaped(tmp_path):
    write_report(tmp_path / "vb", FAILING)
    html = write_view(tmp_path / "vb").read_text(encoding="utf-8")
    assert '<td><a href="#failing-1">canaries</a></td><td><span class="grade bad">FAIL</span></td><td>4/13</td>' in html
    assert 'id="failing-1">canaries failed on 9 of 13' in html and 'id="failing-2">bounds failed on 1 of 40<' in html
    body = html.split('id="failing-1"')[1]
    assert [body.count(f">hostile/{n}<") for n in range(len(HOSTILE))] == [1] * len(HOSTILE)  # each example once
    assert "<td>hung</td>" in body and "<td>–</td>" in body  # a hung grade has no reward
    assert "FAILED (canaries, bounds)" in html and "sandbox subprocess" in html and "seed 7" in html
    # the data's text never becomes markup: the only script ends are the page's own two elements
    assert html.count("</script>") == 2 and "<img src=x" not in html and "<b>kw</b>" not in html
    assert "&lt;/script&gt;&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "\\ud800" in html and "\\udfff" in html and "\\x00\\x00" in html and "\\x1b[2J" in html  # shown escaped
    assert "\u202e" not in html and "\x1b" not in html and "\x00" not in html
    assert len(html) < MEGABYTE // 10 and "more characters)" in html  # the megabyte answer and detail are cut


@pytest.mark.parametrize("name", ["validate.json", "arithmetic.validate.json"])
def test_a_validate_json_named_directly_gets_its_page_beside_it(tmp_path, capsys, name):
    path = write_report(tmp_path / "vc", FAILING, name)
    assert main(["view", str(path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "vc" / "view.html")
    assert "canaries failed on 9 of 13" in (tmp_path / "vc" / "view.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is no validate.json that score-env validate wrote (JSONDecodeError"),
        ('{"env_id": "score/Arithmetic-v0"}', "is no validate.json that score-env validate wrote (KeyError"),
        ("[1, 2]", "is no validate.json that score-env validate wrote (TypeError"),
        ('"text"', "is no validate.json that score-env validate wrote (AttributeError"),
    ],
)
def test_a_file_that_is_no_report_is_refused_in_one_line(tmp_path, capsys, text, message):
    (tmp_path / "validate.json").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_run(tmp_path / "validate.json")
    assert main(["view", str(tmp_path)]) == 2 and main(["view", str(tmp_path / "validate.json")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(e.startswith("score-env view: error: ") and message in e for e in err)


@needs_chromium
def test_the_page_renders_in_a_browser_with_the_hostile_answers_as_text(browser, tmp_path):
    write_report(tmp_path / "vb", FAILING)
    page, problems = open_page(browser, write_view(tmp_path / "vb"))
    assert page.evaluate("window.pwned") is None and problems == []
    assert page.locator("#checks table.checks tbody tr").count() == 3
    assert page.locator("#browser").is_hidden()  # a validate run plays no episodes
    answers = page.locator("#failing-1 + p + .scroll table.examples tbody tr td:nth-child(3) pre")
    assert answers.count() == len(HOSTILE)
    assert (
        answers.nth(list(HOSTILE).index("bidi override and HTML"))
        .inner_text()
        .endswith("</script><script>window.pwned = 1</script><!-- & -->")
    )
    assert page.locator("#checks script, #checks img, #checks b").count() == 0
