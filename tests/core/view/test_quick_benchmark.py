"""The issue's check end to end: ``score-env benchmark config=benchmark_quick`` (two methods, no analyses, to keep it
short), then ``score-env view`` on its report: in chromium, each method's wrong→right and right→wrong counts are
Δi→c and Δc→i times the number of problems, and on the base model's first attempts the fix and break rates'."""

from __future__ import annotations

import json

import pytest

from score_env.cli import main
from tests.core.view.conftest import count, needs_chromium, open_page

# About 70 s on 2 busy cores (tests/core/view/test_page.py checks the same counts on a hand-made report in seconds).
pytestmark = [needs_chromium, pytest.mark.slow]

QUICK = ["config=benchmark_quick", "methods=[prompting,score]", "scaling.problems=0", "distribution_shift=false",
         "ceiling_samples=0", "sampled_eval.problems=0"]  # fmt: skip


def test_quick_benchmark_page_counts_are_the_deltas(browser, tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["benchmark", *QUICK, f"report_dir={report}"]) == 0
    capsys.readouterr()
    assert main(["view", str(report)]) == 0
    path = capsys.readouterr().out.strip()
    page, problems = open_page(browser, report / "view.html")
    assert path == str(report / "view.html")
    results = json.loads((report / "results.json").read_text())
    for number, result in enumerate(results):
        # each method has two lists: its own episodes, then its attempt 2 after the base model's first attempts
        page.click(f"#runs button[data-run='{2 * number + 1}']")
        fixed = result["fixed"]
        wrong, right = fixed["first_right"].count(False), fixed["first_right"].count(True)
        assert count(page, "i2c") == round(fixed["fix"]["value"] * wrong)
        assert count(page, "c2i") == round(fixed["broken"]["value"] * right)
        page.click(f"#runs button[data-run='{2 * number}']")
        n, estimates = result["report"]["problems"], result["report"]["estimates"]
        assert (
            count(page, "i2c")
            == round(estimates["delta_i_to_c"]["value"] * n)
            == result["report"]["counts"]["n_i_to_c"]
        )
        assert (
            count(page, "c2i")
            == round(estimates["delta_c_to_i"]["value"] * n)
            == result["report"]["counts"]["n_c_to_i"]
        )
        assert count(page, "all") == n == page.locator("#episodes > li").count()
    assert problems == []
