"""The page in a real browser (Debian's chromium, driven by Playwright): it loads from file:// with no console error
and no request, its filter counts are the metrics' counts, a filter changes the rows, the diff marks the changed
step, search and the comparison across methods work, and hostile model output stays text."""

from __future__ import annotations

import yaml

from score_env.metrics import self_correction_metrics
from score_env.runs import write_atomic, write_episodes, write_metrics
from score_env.text import escape_text
from score_env.view import write_view
from tests.core.view.conftest import HOSTILE, PLAYS, count, needs_chromium, open_page
from tests.hostile import AGAIN, hostile_episode
from tests.hostile import HOSTILE as FAMILIES

pytestmark = needs_chromium


def test_filter_counts_are_the_metrics_counts_and_filters_change_the_rows(browser, hand_report):
    report_dir, outcomes = hand_report
    page, problems = open_page(browser, write_view(report_dir))
    for number, (name, outcome) in enumerate(outcomes.items()):
        page.click(f"#runs button[data-run='{number}']")
        counts, n = outcome.report.counts, outcome.report.problems
        assert count(page, "i2c") == counts["n_i_to_c"] == round(outcome.report.estimates["delta_i_to_c"].value * n)
        assert count(page, "c2i") == counts["n_c_to_i"] == round(outcome.report.estimates["delta_c_to_i"].value * n)
        assert page.locator("#episodes > li").count() == count(page, "all") == n
        page.click("#filters button[data-filter='i2c']")
        shown = page.locator("#episodes > li")
        assert shown.count() == counts["n_i_to_c"] < n, name
        assert set(shown.evaluate_all("rows => rows.map(r => r.dataset.transition)")) == {"i2c"}
    assert problems == []


def test_the_diff_marks_the_changed_step(browser, hand_report):
    page, problems = open_page(browser, write_view(hand_report[0]))
    episode = page.locator("#episodes > li[data-key='hand/0#0']")
    assert episode.locator(".attempt").nth(0).locator("del").all_inner_texts() == ["30", "30"]
    assert episode.locator(".attempt").nth(1).locator("ins").all_inner_texts() == ["31", "31"]
    unchanged = page.locator("#episodes > li[data-key='hand/1#0']")
    assert unchanged.locator("del, ins").count() == 0
    assert problems == []


def test_long_attempts_start_collapsed(browser, hand_report):
    page, problems = open_page(browser, write_view(hand_report[0]))
    long = page.locator("#episodes > li[data-key='hand/1#0'] .attempt")
    assert long.locator("pre.text.collapsed").count() == 2
    long.nth(0).locator("button.expand").click()
    assert (
        long.locator("pre.text.collapsed").count() == 1
        and long.nth(0).locator("button.expand").inner_text() == "collapse"
    )
    assert problems == []


def test_search_and_the_same_problem_across_methods(browser, hand_report):
    page, problems = open_page(browser, write_view(hand_report[0]))
    page.fill("#search", "hand/3")
    assert page.locator("#episodes > li").evaluate_all("rows => rows.map(r => r.dataset.key)") == ["hand/3#0"]
    page.click("#episodes > li .compare-button")
    rows = page.locator("#compare .row")
    assert rows.count() == len(PLAYS)
    assert [t.split("\n")[0] for t in rows.locator(".label").all_inner_texts()] == list(PLAYS)
    assert problems == []


def test_hostile_model_output_is_shown_as_text(browser, hand_report):
    page, problems = open_page(browser, write_view(hand_report[0]))
    assert page.evaluate("window.pwned") is None
    hostile = page.locator("#episodes > li[data-key='hand/5#0'] .attempt pre.text")
    assert hostile.nth(0).inner_text() == HOSTILE
    problem = page.locator("#episodes > li[data-key='hand/5#0'] pre.problem")
    assert problem.inner_text().endswith("</script><b>bold?</b>") and problem.locator("b").count() == 0
    assert page.locator("#episodes img, #episodes script").count() == 0  # no element came from the data
    assert problems == []


def test_lone_surrogates_controls_and_megabyte_lines_show_as_escapes(browser, tmp_path):
    run_dir = tmp_path / "eval"
    run_dir.mkdir()
    episodes = [hostile_episode(i, text) for i, text in enumerate(FAMILIES.values())]
    write_atomic(run_dir / "config.yaml", yaml.safe_dump({"env": "hostile", "agent": {"kind": "prompting"}}))
    write_episodes(run_dir / "episodes.jsonl", episodes)
    write_metrics(run_dir, self_correction_metrics(episodes, n_bootstrap=20))
    page, problems = open_page(browser, write_view(run_dir))
    assert page.evaluate("window.pwned") is None
    for episode in episodes:
        row = page.locator(f"#episodes > li[data-key='{episode.problem_id}#0']")
        texts = row.locator(".attempt pre.text").all_text_contents()
        assert texts == [escape_text(a.text) for a in episode.attempts]
        assert texts[1].endswith(AGAIN) and row.locator("ins").all_text_contents() == [AGAIN]
    assert problems == []
