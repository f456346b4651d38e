"""Run directories made by hand with the project's own writers (no model, no training): a benchmark report of two
methods whose episodes hold every transition, a diff in one step, a code grade and hostile model output; and the
browser (Debian's chromium, driven by Playwright) that the page tests load it in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from score_env.benchmark.results import MethodResult, outcomes_json, write_outcome
from score_env.metrics import self_correction_metrics
from score_env.records import Attempt, Episode, Grade, GradeReason, Message
from score_env.runs import write_atomic, write_episodes, write_metrics

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
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


INSTRUCTION = "There might be an error in the solution above. Please correct it, if any, and rewrite it."
HOSTILE = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> Answer: 7'
LONG = "".join(f"{k} + 0 = {k}.\n" for k in range(30)) + "Answer: 32"  # shown collapsed
# (attempt 1, attempt 2, correct 1, correct 2) per problem; the reference answer of problem i is 31 + i.
PLAYS = {
    "prompting": [
        ("3 * 8 = 24. 7 + 24 = 30. Answer: 30", "3 * 8 = 24. 7 + 24 = 31. Answer: 31", False, True),  # i2c
        (LONG, LONG, True, True),  # c2c
        ("Answer: 1", "Answer: 1", False, False),  # i2i unchanged
        ("Answer: 34", "Answer: 35", True, False),  # c2i
        ("Answer: 2", "Answer: 3", False, False),  # i2i changed
        (HOSTILE, HOSTILE, False, False),  # i2i unchanged, and hostile
    ],
    "score": [
        ("Answer: 30", "Answer: 31", False, True),  # i2c
        ("Answer: 32", "Answer: 32", True, True),  # c2c
        ("Answer: 1", "Answer: 33", False, True),  # i2c
        ("Answer: 34", "Answer: 34", True, True),  # c2c
        ("Answer: 9", "Answer: 35", False, True),  # i2c
        ("Answer: 36", "Answer: 8 🙂 then 9", True, False),  # c2i, with a character outside the BMP
    ],
}


def grade(text: str, correct: bool, code: bool = False) -> Grade:
    answer = text.rsplit("Answer: ", 1)[-1]
    if code:
        return Grade(
            correct, GradeReason.OK if correct else GradeReason.WRONG, None, "Traceback ...\nAssertionError", "bwrap"
        )
    return Grade.ok(answer) if correct else Grade.wrong(answer)


def episode(index: int, y1: str, y2: str, c1: bool, c2: bool) -> Episode:
    question = Message("user", f"Problem {index}: compute 7 + 3 * 8 + {index}. </script><b>bold?</b>")
    first = Attempt((question,), y1, (1, 2), (-0.1, -0.2), "stop", float(c1), grade(y1, c1))
    prompt2 = (question, Message("assistant", y1), Message("user", INSTRUCTION))
    second = Attempt(prompt2, y2, (3,), (-0.3,), "stop", float(c2), grade(y2, c2, code=index == 4))
    return Episode(f"hand/{index}", index, 0, (first, second))


def write_report(report_dir: Path) -> dict[str, MethodResult]:
    """A benchmark report of the two methods of ``PLAYS``, seed 0, as ``score-env benchmark`` writes it."""
    report_dir.mkdir(parents=True)
    write_atomic(
        report_dir / "config.yaml",
        yaml.safe_dump({"env": "hand", "model": "none", "seeds": [0], "methods": list(PLAYS)}),
    )
    outcomes = {}
    for name, plays in PLAYS.items():
        episodes = [episode(i, *play) for i, play in enumerate(plays)]
        method_dir = report_dir / "seed-0" / name
        (method_dir / "eval").mkdir(parents=True)
        write_episodes(method_dir / "eval" / "episodes.jsonl", episodes)
        report = self_correction_metrics(episodes, n_bootstrap=20)
        outcome = MethodResult(name, name, 0, None, 0, 0, report, generated_tokens=6, wall_s=1.0)
        write_outcome(method_dir / "result.json", outcome)
        outcomes[name] = outcome
    write_atomic(report_dir / "results.json", outcomes_json(tuple(outcomes.values())).decode())
    return outcomes


def write_eval_run(run_dir: Path) -> None:
    """An eval run directory as ``score-env eval`` writes it."""
    run_dir.mkdir(parents=True)
    episodes = [episode(i, *play) for i, play in enumerate(PLAYS["score"])]
    write_atomic(run_dir / "config.yaml", yaml.safe_dump({"env": "hand", "agent": {"kind": "prompting"}}))
    write_episodes(run_dir / "episodes.jsonl", episodes)
    write_metrics(run_dir, self_correction_metrics(episodes, n_bootstrap=20))


@pytest.fixture(scope="module")
def hand_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, MethodResult]]:
    report_dir = tmp_path_factory.mktemp("view") / "report"
    return report_dir, write_report(report_dir)
