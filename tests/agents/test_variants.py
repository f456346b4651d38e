"""A user's own method variant: an agent file outside the package, by path or in the project's configs/agents/
(searched before the package's), trains and appears in a benchmark table (issue #26)."""

from __future__ import annotations

import json

from score_env.cli import main
from tests.agents.conftest import TINY_TRAIN

VARIANT = "# SCoRe with alpha 5 (a variant of the shipped score.yaml)\nkind: score\nalpha: 5.0\nstage1_steps: 1\n"


def test_a_variant_trains_by_path_and_by_name_and_joins_a_benchmark(tiny_model_dir, tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    (project / "configs" / "agents").mkdir(parents=True)
    (project / "configs" / "agents" / "score_alpha5.yaml").write_text(VARIANT)
    (tmp_path / "elsewhere.yaml").write_text(VARIANT)
    monkeypatch.chdir(project)
    tiny = [f"model={tiny_model_dir}", "agent.stage2_steps=1", "agent.lr=1e-3", *TINY_TRAIN]
    for agent, run_dir in (
        (str(tmp_path / "elsewhere.yaml"), tmp_path / "by-path"),
        ("score_alpha5", tmp_path / "by-name"),
    ):
        assert main(["train", f"agent={agent}", f"run_dir={run_dir}", *tiny]) == 0
        saved = (run_dir / "config.yaml").read_text()
        assert "alpha: 5.0" in saved and "stage1_steps: 1" in saved

    assert main(["agents"]) == 0
    listed = capsys.readouterr().out
    assert (
        "score_alpha5" in listed
        and f"from the project: {project / 'configs' / 'agents' / 'score_alpha5.yaml'}" in listed
    )

    report = tmp_path / "report"
    argv = ["benchmark", "config=benchmark_quick", f"report_dir={report}", "methods=[prompting,score_alpha5]",
            "scaling.problems=0", "distribution_shift=false"]  # fmt: skip
    assert main(argv) == 0
    assert [r["name"] for r in json.loads((report / "results.json").read_text())] == ["prompting", "score_alpha5"]
    assert "| score_alpha5 |" in (report / "results.md").read_text()


def test_a_benchmark_method_is_a_name_not_a_file(tmp_path, capsys):
    argv = ["benchmark", f"report_dir={tmp_path}", "methods=[prompting,./my_score.yaml]"]
    assert main(argv) == 2
    assert "put your agent file in ./configs/agents/" in capsys.readouterr().err
