"""score-env benchmark end to end with the quick preset (every method and analysis, about a minute)."""

from __future__ import annotations

import json

from score_env.cli import main

PLOTS = {"accuracy.png", "edit_distance.png", "training_curves.png", "inference_scaling.png", "distribution_shift.png"}
METHODS = ["prompting", "sft", "star_plus", "score", "score_single_turn", "score_no_stage1", "score_no_shaping"]


def test_quick_benchmark_writes_the_whole_report_and_a_rerun_skips_what_is_done(tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["benchmark", "config=configs/benchmark_quick.yaml", f"report_dir={report}"]) == 0
    results = json.loads((report / "results.json").read_text())
    assert list(results["methods"]) == METHODS
    assert all("error" not in r and 0 <= r["metrics"]["acc@t1"]["value"] <= 1 for r in results["methods"].values())
    assert set(results["analyses"]["inference_scaling"]) == {"prompting", "score"}
    assert set(results["analyses"]["distribution_shift"]) == set(METHODS[1:])
    assert {p.name for p in report.iterdir()} >= PLOTS
    assert all((report / p).stat().st_size > 1000 for p in PLOTS)
    markdown = (report / "results.md").read_text()
    assert "| score |" in markdown and "SCoRe | 60.0 | 64.4" in markdown  # ours and the paper's beside it
    capsys.readouterr()

    assert main(["benchmark", "config=configs/benchmark_quick.yaml", f"report_dir={report}"]) == 0
    out = capsys.readouterr().out
    assert out.count("done in an earlier run, kept") == len(METHODS)


def test_a_failing_method_is_recorded_and_the_others_are_kept(tmp_path, monkeypatch, capsys):
    from score_env import agents

    real = agents.build_agent

    def broken(config, policy):
        if config.kind == "sft":
            raise RuntimeError("sft is broken today")
        return real(config, policy)

    monkeypatch.setattr(agents, "build_agent", broken)
    report = tmp_path / "report"
    argv = [
        "benchmark",
        "config=configs/benchmark_quick.yaml",
        f"report_dir={report}",
        "methods=[prompting,sft,score]",
        "scaling.problems=0",
        "distribution_shift=false",
    ]
    assert main(argv) == 0
    results = json.loads((report / "results.json").read_text())["methods"]
    assert results["sft"] == {"name": "sft", "error": "RuntimeError: sft is broken today"}
    assert "error" not in results["prompting"] and "error" not in results["score"]
    assert "sft is broken today" in (report / "methods" / "sft" / "error.txt").read_text()
