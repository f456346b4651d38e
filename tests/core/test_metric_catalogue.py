"""One catalogue of metrics: the CLI table, ``results.md`` and the viewer show a run's metrics under the same labels,
with a three-attempt method's last attempt as Acc@final everywhere, and the mean number of attempts as a number."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from score_env.benchmark.results import MethodResult, outcomes_json, write_outcome
from score_env.config.help import describe_metrics
from score_env.metric_catalogue import CATALOGUE, FACTS, FIXED, HEADLINE, legend, metric, table_columns
from score_env.metrics import self_correction_metrics
from score_env.records import Attempt, Episode, Grade
from score_env.report import metrics_table, results_markdown
from score_env.runs import write_atomic, write_episodes
from score_env.view.html import results_table
from score_env.view.sources import read_run

# Right (1) or wrong (0) at each attempt, one tuple per problem.
THREE = [(0, 0, 1), (0, 0, 1), (1, 1, 1), (0, 1, 1)]  # Acc@t1 25, Acc@t2 50, Acc@final 100
TWO = [(0, 1), (1, 1), (0, 0), (1, 0)]


def episodes_of(plays: list[tuple[int, ...]]) -> list[Episode]:
    def attempt(correct: int, t: int) -> Attempt:
        grade = Grade.ok("1") if correct else Grade.wrong(str(t + 2))
        return Attempt((), f"Answer: {grade.extracted}", (1, 2), (0.0, 0.0), "stop", float(correct), grade)

    return [Episode(f"p{i}", i, 0, tuple(attempt(c, t) for t, c in enumerate(row))) for i, row in enumerate(plays)]


def cli_text(report) -> str:
    console = Console(record=True, width=200)
    console.print(metrics_table(report, "eval"))
    return console.export_text()


@pytest.fixture
def report_dir_and_outcomes(tmp_path) -> tuple:
    """A report directory of a three-attempt method (score_three) and a two-attempt one (prompting), one seed."""
    outcomes = []
    for name, plays, lr in (("score_three", THREE, 1e-5), ("prompting", TWO, None)):
        episodes = episodes_of(plays)
        method_dir = tmp_path / "seed-0" / name
        (method_dir / "eval").mkdir(parents=True)
        write_episodes(method_dir / "eval" / "episodes.jsonl", episodes)
        report = self_correction_metrics(episodes, attempts=len(plays[0]), n_bootstrap=20)
        outcome = MethodResult(name, name, 0, lr, 4, 32, report, generated_tokens=8, wall_s=1.0)
        write_outcome(method_dir / "result.json", outcome)
        outcomes.append(outcome)
    write_atomic(tmp_path / "results.json", outcomes_json(tuple(outcomes)).decode())
    return tmp_path, outcomes


def markdown_table(markdown: str) -> list[list[str]]:
    """The rows (header first) of the main table of ``results.md``, cells stripped."""
    section = markdown.split("## Greedy evaluation", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows if not row.startswith("|---")]


def html_table(html: str) -> list[list[str]]:
    """The rows (header first) of the viewer's results table, cells as text (tags dropped)."""
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)] for row in rows]


def test_results_md_the_viewer_and_the_cli_show_the_same_columns_for_a_three_attempt_method(report_dir_and_outcomes):
    report_dir, outcomes = report_dir_and_outcomes
    md = markdown_table(results_markdown(outcomes, ["# provenance"]))
    page = read_run(report_dir)
    view = html_table(results_table(page.results))
    assert md[0][1:] == view[0][1:]  # the same columns, labels and order
    assert "Acc@final" in md[0] and "Acc@t2" not in md[0] and "Δ(t1,final)" in md[0]
    md_rows, view_rows = {r[0]: r for r in md[1:]}, {r[0]: r for r in view[1:]}
    three = outcomes[0].report
    final = metric("acc@final")
    assert three.estimates["acc@final"].value == 1.0 != three.estimates["acc@t2"].value  # t3 is its final attempt
    column = md[0].index(final.label)
    assert md_rows["score_three"][column].startswith("100.0 [")  # Acc@final is attempt 3, not attempt 2 (50.0)
    for label, md_cell, view_cell in zip(md[0], md_rows["score_three"], view_rows["score_three"], strict=True):
        assert md_cell.split(" ")[0] == view_cell.split(" ")[0], label  # the same value in each column
    # The CLI table shows every metric column under the same label, with the same value (and its unit).
    cli = cli_text(three)
    for m in table_columns([{k: e.value for k, e in three.estimates.items()}]):
        value = three.estimates[m.key].value
        assert re.search(rf"│ {re.escape(m.label)} +│ +{re.escape(m.with_unit(value))} │", cli), m.label


def test_the_eval_table_prints_the_mean_number_of_attempts_as_a_number():
    report = self_correction_metrics(episodes_of([(0, 1), (0, 0, 1), (1,), (1, 1)]), attempts=3, n_bootstrap=20)
    cli = cli_text(report)
    mean = report.estimates["attempts"].value
    assert mean == 2.0 and re.search(r"│ attempts +│ +2\.00 │ +\[\d\.\d\d, \d\.\d\d\] │", cli)
    assert "200.0%" not in cli
    assert re.search(r"│ Acc@t2 +│ +75\.0% │", cli)  # rates stay in percent


def test_every_metric_a_report_computes_is_in_the_catalogue():
    verdict = Attempt((), "wrong", (1,), (0.0,), "stop", 1.0, Grade.ok("wrong"))  # a verdict that was right
    episodes = [e if i else Episode(e.problem_id, e.problem_index, 0, e.attempts, verdicts=(verdict,))
                for i, e in enumerate(episodes_of(THREE))]  # fmt: skip
    report = self_correction_metrics(episodes, attempts=3, n_bootstrap=20)
    assert {"acc@t3", "tokens@t3", "verdict_accuracy"} <= set(report.estimates)
    for key in [*report.estimates, *FACTS, *FIXED, *HEADLINE]:
        m = metric(key)
        assert m.label and m.definition and "{n}" not in m.label + m.definition
    assert metric("acc@t3").label == "Acc@t3" and metric("tokens@t2").settings == "multi-attempt"
    with pytest.raises(KeyError, match="acc@final"):
        metric("acc@finl")


def test_help_and_legends_come_from_the_catalogue():
    assert len(describe_metrics()) == len(CATALOGUE)
    assert all(m.label in legend(list(CATALOGUE)) for m in CATALOGUE.values())
    assert "Δ(t1,final) = Acc@final − Acc@t1" in results_markdown([], ["# provenance"])
