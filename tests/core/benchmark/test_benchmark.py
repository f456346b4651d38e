"""score-env benchmark end to end with the quick preset (every method and analysis, about a minute)."""

from __future__ import annotations

import json

from score_env.benchmark.results import MethodResult, read_outcome
from score_env.cli import main

PLOTS = {"accuracy.png", "edit_distance.png", "training_curves.png", "inference_scaling.png", "distribution_shift.png"}
METHODS = [
    "prompting", "sft", "star_plus", "score", "score_single_turn", "score_no_stage1", "score_no_shaping", "pag"
]  # fmt: skip


def test_quick_benchmark_writes_the_whole_report_and_a_rerun_skips_what_is_done(tmp_path, capfd):
    """With one worker process per core (workers=0; their output reaches the terminal directly)."""
    report = tmp_path / "report"
    assert main(["benchmark", "config=benchmark_quick", f"report_dir={report}", "workers=0"]) == 0
    results = json.loads((report / "results.json").read_text())
    assert [r["name"] for r in results] == METHODS
    outcomes = [read_outcome(report / "seed-0" / name / "result.json") for name in METHODS]
    assert all(isinstance(o, MethodResult) and 0 <= o.report.estimates["acc@t1"].value <= 1 for o in outcomes)
    assert {o.name for o in outcomes if o.scaling} == {"prompting", "score"}
    assert {o.name for o in outcomes if o.shift} == set(METHODS[1:-1])  # not pag: its episodes end when it says so
    # every method corrected the same first attempts: the base model's greedy ones, recorded once
    base = [json.loads(line) for line in (report / "first-attempts" / "episodes.jsonl").read_text().splitlines()]
    base_wrong = sum(not e["attempts"][0]["grade"]["correct"] for e in base)
    for o in outcomes:
        assert o.fixed is not None and o.fixed.n_wrong == base_wrong and len(o.fixed.problems) == 24
        replayed = [json.loads(line) for line in (report / "seed-0" / o.name / "fixed" / "episodes.jsonl").open()]
        assert [e["attempts"][0]["text"] for e in replayed] == [e["attempts"][0]["text"] for e in base]
        assert o.sampled and o.sampled.fixed and o.sampled.fixed.samples == 2
    assert outcomes[0].fixed.fix.value == outcomes[0].report.counts["n_i_to_c"] / base_wrong  # the base's own
    # every trained method spent the same budget: updates=2 gradient updates, 2 x P=4 x k=2 sampled episodes
    assert {(o.name, o.updates, o.episodes_sampled) for o in outcomes[1:]} == {(n, 2, 16) for n in METHODS[1:]}
    assert {p.name for p in report.iterdir()} >= PLOTS
    assert all((report / p).stat().st_size > 1000 for p in PLOTS)
    markdown = (report / "results.md").read_text()
    assert "| score |" in markdown and "SCoRe | 60.0 | 64.4" in markdown  # ours and the paper's beside it
    assert "## Correction on the base model's first attempts (the headline)" in markdown
    assert "Holm-corrected" in markdown and "Minimum detectable difference" in markdown
    assert_tables_are_well_formed(markdown)
    capfd.readouterr()

    assert main(["benchmark", "config=benchmark_quick", f"report_dir={report}"]) == 0
    out = capfd.readouterr().out
    assert out.count("done in an earlier run, kept") == len(METHODS)
    assert outcomes[0].ceiling is not None and 0 <= outcomes[0].ceiling <= 1  # the base model's correction ceiling
    assert all(o.sampled and 0 <= o.sampled.pass_at_2 <= 1 for o in outcomes)
    assert json.loads((report / "results.json").read_text()) == results


def assert_tables_are_well_formed(markdown: str) -> None:
    """Every row of every markdown table has as many cells as its header (a renderer drops the rest)."""
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        assert len({row.count("|") for row in table}) <= 1, "\n".join(table)
        table = []


def test_a_failing_method_is_recorded_and_the_others_are_kept(tmp_path, monkeypatch, capsys):
    from dataclasses import replace

    from score_env.config import agents

    def broken(config, policy):
        raise RuntimeError("sft is broken today")

    monkeypatch.setitem(agents._AGENTS, "sft", replace(agents.agent_spec("sft"), build=broken))
    report = tmp_path / "report"
    argv = [
        "benchmark",
        "config=benchmark_quick",
        f"report_dir={report}",
        "methods=[prompting,sft,score]",
        "scaling.problems=0",
        "distribution_shift=false",
        "workers=1",  # the monkeypatched agent exists in this process only
    ]
    assert main(argv) == 0
    outcomes = {n: read_outcome(report / "seed-0" / n / "result.json") for n in ("prompting", "score")}
    assert all(isinstance(o, MethodResult) for o in outcomes.values())
    assert not (report / "seed-0" / "sft" / "result.json").exists()  # a failure is not kept: a rerun tries again
    results = json.loads((report / "results.json").read_text())
    assert results[1] == {"name": "sft", "seed": 0, "error": "RuntimeError: sft is broken today", "status": "failed"}
    assert "sft is broken today" in (report / "seed-0" / "sft" / "error.txt").read_text()
    assert "sft (seed 0) failed: RuntimeError: sft is broken today" in (report / "results.md").read_text()


def test_the_same_seed_gives_the_same_table_and_seeds_are_aggregated(tmp_path):
    """Determinism at toy size: two runs of the same config on this machine agree to the last digit, one in this
    process and one on two worker processes (one torch thread each); with two seeds the report has per-seed rows,
    the spread, and the differences across seeds."""
    argv = [
        "config=benchmark_quick",
        "methods=[prompting,score]",
        "scaling.problems=0",
        "distribution_shift=false",
        "ceiling_samples=0",
        "sampled_eval.problems=4",
        "eval_problems=6",
        "updates=1",
        "seeds=[0,1]",
    ]
    for name, workers in (("a", 1), ("b", 2)):
        assert main(["benchmark", *argv, f"report_dir={tmp_path / name}", f"workers={workers}"]) == 0

    def table(name):
        rows = json.loads((tmp_path / name / "results.json").read_text())
        return [
            (
                r["name"],
                r["seed"],
                r["report"]["estimates"],
                r["sampled"]["report"]["estimates"],
                r["fixed"],
                r["probes"],
            )
            for r in rows
        ]

    assert table("a") == table("b")
    markdown = (tmp_path / "a" / "results.md").read_text()
    assert "## Per seed" in markdown and "± " in markdown and "## Which differences hold" in markdown
    assert "| score | prompting | fix rate |" in markdown and "Holm p" in markdown
    assert_tables_are_well_formed(markdown)


def test_verify_then_revise_joins_the_table_and_the_oracle_track_gets_its_own(tmp_path):
    argv = [
        "config=benchmark_quick",
        "methods=[prompting,pag,multi_attempt]",
        "lrs={pag: 0.0003, multi_attempt: 0.0003}",
        "updates=1",
        "eval_problems=6",
        "sampled_eval.problems=0",
        "scaling.problems=0",
        "distribution_shift=false",
        "ceiling_samples=0",
        f"report_dir={tmp_path}",
    ]
    assert main(["benchmark", *argv]) == 0
    pag = read_outcome(tmp_path / "seed-0" / "pag" / "result.json")
    oracle = read_outcome(tmp_path / "seed-0" / "multi_attempt" / "result.json")
    assert pag.setting == "intrinsic" and oracle.setting == "oracle"
    assert {"acc@final", "attempts", "verdict_accuracy", "verdict_recall_right"} <= set(pag.report.estimates)
    intrinsic, _, rest = (tmp_path / "results.md").read_text().partition("## Oracle feedback")
    assert "| pag |" in intrinsic and "verdict acc." in intrinsic and "| multi_attempt |" not in intrinsic
    assert "| multi_attempt |" in rest.split("##")[0]  # in the oracle table, and only there
