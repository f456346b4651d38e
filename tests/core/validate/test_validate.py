"""score-env validate: every built-in env passes on a small sample; each deliberately broken task fails with the
check that names its fault; a task outside the repository is validated with import=; --help documents the checks."""

from __future__ import annotations

import json

import pytest

from score_env.cli import main
from score_env.testing import assert_valid_env
from score_env.validate import validate_env
from score_env.validation import ValidationReport

BROKEN = "tests.core.validate.broken_tasks"


def statuses(report: ValidationReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


@pytest.mark.parametrize(
    ("env", "kwargs"),
    [
        ("arithmetic", {}),
        ("math", {"timeout_s": 2}),  # the unbounded-LaTeX canaries too
        ("humaneval", {"timeout_s": 2}),  # the infinite-loop canaries end at the task's own limit
        ("mbpp", {"timeout_s": 2}),
    ],
)
def test_every_built_in_env_passes(env, kwargs):
    report = assert_valid_env(env, problems=2, env_kwargs=kwargs)
    assert all(c.status == "pass" for c in report.checks), statuses(report)  # nothing skipped: all declared
    assert report.latency["answers"] > 20
    if env in ("humaneval", "mbpp"):
        assert report.backend in ("bwrap", "docker", "process") and "isolation" in statuses(report)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["arithmetic", "math", "humaneval", "mbpp"])
def test_every_built_in_env_passes_on_a_large_sample(env):
    """The slow suite: 40 problems each, with the tasks' own time limits."""
    report = assert_valid_env(env, problems=40)
    assert all(c.status == "pass" for c in report.checks), statuses(report)


def test_a_grader_that_pays_for_exit_0_fails_the_canaries():
    report = validate_env("broken-exit0", problems=2, imports=[BROKEN], say=print)
    assert statuses(report)["canaries"] == "fail" and statuses(report)["completeness"] == "pass"
    [canaries] = [c for c in report.checks if c.name == "canaries"]
    kinds = {e.kind for e in canaries.examples}  # a bare assert passes an object equal to everything too
    assert {"exit 0 before the tests", "os._exit(0) when called", "an object equal to everything"} <= kinds
    assert statuses(report)["isolation"] == "pass"  # it runs in a real sandbox: only its reward is wrong


def test_a_grader_that_runs_answers_on_the_host_fails_isolation():
    report = validate_env("broken-host", problems=1, imports=[BROKEN], say=print)
    [isolation] = [c for c in report.checks if c.name == "isolation"]
    assert isolation.status == "fail"
    found = " ".join(e.answer for e in isolation.examples)
    assert "a file was written on the host" in found and "connection" in found and "outlived its attempt" in found


def test_a_task_that_leaks_correctness_into_the_observation_fails_the_leak_check():
    report = validate_env("broken-leak", problems=2, imports=[BROKEN], say=print)
    assert statuses(report)["intrinsic leak"] == "fail"
    assert [s for name, s in statuses(report).items() if name != "intrinsic leak"] == ["pass"] * 5


def test_a_grader_that_hangs_fails_bounds_and_the_battery_stops():
    report = validate_env("broken-hang", problems=1, imports=[BROKEN], limit_s=0.5, say=print)
    assert statuses(report) == {"bounds": "fail"} and "did not return within 1.5 s" in report.checks[0].note
    with pytest.raises(AssertionError, match=r"failed score-env validate \(bounds\)"):
        assert_valid_env("broken-hang", import_=BROKEN, limit_s=0.5)


TASK = """
from score_env import Grade, Problem, PromptTask, register_task


def make_capitals(split: str = "test") -> PromptTask:
    problems = [Problem("fr", "Capital of France?", "Paris"), Problem("it", "Capital of Italy?", "Rome")]
    return PromptTask(
        name="capitals", problems=problems, render_prompt=lambda p: p.question,
        correction_instruction="There might be an error above. Answer again in one word.",
        grade_response=lambda p, r: Grade.ok(r) if r.strip().lower() == p.reference.lower() else Grade.wrong(r[:20]),
        reference_response=lambda p: p.reference,
        canaries=lambda p: [f"{p.reference} or London", "Paris Rome Berlin"],
    )


register_task("score/MyCapitals-v0", make_capitals, short_name="my-capitals", description="capitals", splits=("test",))
"""


def test_a_task_outside_the_repository_is_validated_from_the_command_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_capitals.py").write_text(TASK)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "import=my_capitals.py", "env=my-capitals", "problems=2", "run_dir=out"]) == 0
    out = capsys.readouterr().out
    assert "completeness    PASS    2/2" in out and "canaries        PASS    4/4" in out and "passed" in out
    saved = ValidationReport.read(tmp_path / "out" / "validate.json")
    assert saved.passed and saved.env_id == "score/MyCapitals-v0" and len(saved.problems) == 2
    assert json.loads((tmp_path / "out" / "validate.json").read_text())["checks"][0]["name"] == "completeness"


def test_a_failing_validation_exits_1_and_names_the_check(tmp_path, capsys):
    argv = ["validate", f"import={BROKEN}", "env=broken-leak", f"run_dir={tmp_path}"]
    assert main(argv) == 1
    assert "FAILED (intrinsic leak)" in capsys.readouterr().out


def test_mistakes_are_one_line(capsys):
    assert main(["validate", "env=nope"]) == 2
    assert main(["validate", "env=arithmetic", "problems=0"]) == 2
    assert main(["validate", "env=arithmetic", "sandbox=bwrap"]) == 2  # not a code task: it takes no sandbox
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("score-env validate: error: ") for line in err)


def test_help_documents_every_check(capsys):
    assert main(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    for check in ("completeness", "floor", "canaries", "intrinsic leak", "determinism", "bounds", "isolation"):
        assert f"- {check}:" in out
    assert "problems" in out and "limit_s" in out
