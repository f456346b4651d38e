"""The page in a real browser (Debian's chromium, driven by Playwright): it loads from file:// with no console error
and no request, its filter counts are the metrics' counts, a filter changes the rows, the diff marks the changed
step, search and the comparison across methods work, and hostile model output stays text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from score_env.view import write_view
from tests.core.view.conftest import HOSTILE, PLAYS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium; .ci/run installs it)"
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """The page, loaded and rendered, with a list that collects console errors, page errors and requests."""
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(f"request {r.url}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready]", state="attached", timeout=10_000)
    return page, problems


def count(page: Any, transition: str) -> int:
    return int(page.inner_text(f"#filters button[data-filter='{transition}'] .count"))


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
