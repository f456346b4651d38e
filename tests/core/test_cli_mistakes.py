"""Every mistake a new user met (issue 13), walked through the command line: exit code 2, one line naming what was
wrong, the value and what is allowed or what to do, no traceback, and no model loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from score_env.cli import main
from tests.core.one_line import one_line_error


@pytest.fixture
def bad_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("limit: [1, 2\nenv: arithmetic\n")
    return str(path)


MISTAKES = [
    # (command line after the command, what the one line must say)
    (["config={bad_yaml}", "model=embedded"], "cannot read config file"),
    (["model=embedded", "env_kwargs.digits=0"], "need 1 <= digits <= 6"),
    (["model=embedded", "env_kwargs.digits=abc"], "'env_kwargs.digits' = 'abc': Input should be a valid integer"),
    (["model=embedded", "env_kwargs.digitz=3"], "unknown env_kwargs key 'digitz'"),
    (["model=embedded", "env=math", "env_kwargs.subjects=[Geometri]"], "unknown MATH subjects ['Geometri']"),
    (["model=embedded", "env=math", "env_kwargs.levels=[9]"], "MATH levels are 1-5, got [9]"),
    (["model=embedded", "env=math", "env_kwargs.path=/no/such.jsonl"], "MATH path '/no/such.jsonl' is not a file"),
    (["model=embedded", "env=humaneval", "env_kwargs.sandbox=bwarp"], "bwarp"),
    (["model=embedded", "env=humaneval", "env_kwargs.timeout_s=-1"], "positive"),
    (["model=embedded", "policy.device=cuda"], "no usable CUDA device"),
    (["model=embedded", "policy.device=gpu"], "not a torch device"),
    (["model=embedded", "policy.backend=vllm"], "pip install 'score-env[vllm]'"),
    (["model={tmp_path}"], "holds no model"),
    (["model=no-such-org/no-such-model"], "not a local directory, not in the Hugging Face cache"),
    (["model=embedded", "limit="], "limit= has no value"),
    (["model=embedded", "samples=4"], "would repeat the same greedy episode 4 times"),
    (["model=embedded", "agent=score"], "agent=score evaluates a model that agent trained"),
]


@pytest.mark.parametrize(("argv", "message"), MISTAKES, ids=[m[1][:40] for m in MISTAKES])
def test_every_eval_mistake_is_one_line_and_exit_2(argv, message, bad_yaml, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the hub check is then immediate and the same on every machine
    monkeypatch.chdir(tmp_path)
    argv = [a.format(bad_yaml=bad_yaml, tmp_path=tmp_path) for a in argv]
    one_line_error(["eval", *argv], message, capsys)


def test_train_mistakes_fail_before_a_run_directory_is_made(tmp_path, capsys, no_model_loading):
    run_dir = tmp_path / "run"
    one_line_error(["train", "model=embedded", "tensorboard=true", f"run_dir={run_dir}"], "pip install", capsys)
    assert not run_dir.exists()  # the corrected command is not refused by a half-made run directory


def test_resume_mismatch_names_both_values(tmp_path, capsys, no_model_loading):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("seed: 0\n")
    one_line_error(["train", "model=embedded", f"run_dir={run_dir}"], "then, ", capsys)


def test_a_sandbox_that_cannot_run_here_is_one_line(capsys, monkeypatch):
    """bubblewrap missing (no bwrap on the PATH) and docker without an engine: one line each, before any model."""
    monkeypatch.setenv("PATH", "/nonexistent")
    one_line_error(
        ["eval", "model=embedded", "env=humaneval", "env_kwargs.sandbox=bwrap"], "bubblewrap is not installed", capsys
    )
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    one_line_error(
        ["eval", "model=embedded", "env=humaneval", "env_kwargs.sandbox=docker"], "no Docker engine reachable", capsys
    )


def test_help_lists_each_key_with_its_type_default_and_description(capsys):
    assert main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "limit: int > 0 | None = None" in out and "Evaluate only the first ``limit`` problems" in out
    assert main(["--version"]) == 0 and capsys.readouterr().out.startswith("score-env ")
    assert main(["benchmark", "--help"]) == 0 and "seeds: list[int] = [0]" in capsys.readouterr().out


def test_python_dash_m_score_env_is_the_command():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "score_env", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("score-env ")


def test_ctrl_c_in_a_benchmark_prints_the_benchmark_command_with_its_real_report_directory(
    monkeypatch, capsys, tmp_path
):
    """Even when it comes during a method's training (which stops as `score-env train resume=...` would), and with
    the default report directory: the command that continues is the benchmark's, with where its report is."""
    from score_env.benchmark import method
    from score_env.training.session import TrainingInterrupted

    def interrupted(*args, **kwargs):
        raise TrainingInterrupted(Path("somewhere/seed-0/score/train"), 3)

    monkeypatch.setattr(method, "train_agent", interrupted)
    monkeypatch.chdir(tmp_path)  # the default report directory is made here (runs/benchmark-...)
    argv = ["benchmark", "config=benchmark_quick", "methods=[prompting,score]", "scaling.problems=0"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    report = next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("report directory: "))
    expected = f"continue with: score-env benchmark {' '.join(argv[1:])} report_dir={report}"
    assert expected in err and "score-env train resume=" not in err


def test_ctrl_c_while_setting_up_says_nothing_was_done(monkeypatch, capsys, tmp_path):
    """Before a run has its directory (checks, loading the model) there is nothing to continue: no placeholder."""
    from score_env import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "benchmark_wiring", interrupted)
    assert main(["benchmark", "config=benchmark_quick"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == (
        "score-env benchmark: interrupted. Stopped before any work was done: run score-env benchmark again to start it."
    )


def test_a_run_directory_in_use_is_refused_and_a_killed_runs_lock_is_taken_over(tmp_path, capsys):
    import subprocess
    import sys

    run_dir = tmp_path / "eval"
    run_dir.mkdir()
    holder = (
        "import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", holder, str(run_dir / ".lock")], stdout=subprocess.PIPE)
    try:
        assert other.stdout.readline() == b"held\n"
        argv = ["eval", "model=embedded", "env=arithmetic", "limit=2", f"run_dir={run_dir}"]
        one_line_error(argv, "is in use by another run", capsys)
    finally:
        other.kill()
        other.wait()
    assert main(argv) == 0  # the killed run's lock went with it


def test_a_run_directory_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    argv = ["eval", "model=embedded", "env=arithmetic", "limit=2", f"run_dir={tmp_path / 'taken'}"]
    one_line_error(argv, "cannot write the run directory", capsys)


@pytest.mark.parametrize(
    ("override", "message"),
    [("seeds=[0,0]", "0 given more than once"), ("methods=[prompting,score,score]", "score given more than once")],
)
def test_a_seed_or_method_named_twice_is_refused(override, message, capsys):
    one_line_error(["benchmark", override], message, capsys)


TASK_WITH_TRUE_GRADER = """
from score_env import Problem, PromptTask, register_task


def make(split="train"):
    return PromptTask(
        name="true_grader", problems=[Problem("p0", "Say yes.", "yes")], render_prompt=lambda p: p.question,
        correction_instruction="Again.", grade_response=lambda p, r: True,
    )


register_task("score/TrueGrader-v0", make, short_name="true_grader", description="a grader returning True")
"""


@pytest.mark.parametrize(
    ("source", "env", "message"),
    [
        ("raise RuntimeError('no dataset here')\n", "arithmetic", "raised RuntimeError: no dataset here ("),
        ("def broken(:\n", "arithmetic", "a syntax error at "),
        (TASK_WITH_TRUE_GRADER, "true_grader", "returned True, not a Grade: return Grade.ok(answer)"),
        (
            TASK_WITH_TRUE_GRADER.replace("lambda p: p.question", "lambda p: 5"),
            "true_grader",
            "renders a prompt that is not text (5)",
        ),
        (
            TASK_WITH_TRUE_GRADER.replace(
                "    return PromptTask(", '    raise RuntimeError("no data for this split")\n    return PromptTask('
            ),
            "true_grader",
            "could not be built: RuntimeError: no data for this split",
        ),
    ],
    ids=["raises on import", "syntax error", "grader returns True", "prompt is not text", "factory raises"],
)
def test_a_users_task_module_that_breaks_a_rule_is_one_line(source, env, message, tmp_path, capsys):
    import gymnasium as gym

    from score_env import registry

    module = tmp_path / f"user_tasks_{abs(hash(source))}.py"
    module.write_text(source)
    argv = ["eval", "model=embedded", f"env={env}", "limit=1", f"import={module}", f"run_dir={tmp_path / 'run'}"]
    try:
        one_line_error(argv, message, capsys)
    finally:
        registry._SPECS.pop("score/TrueGrader-v0", None)  # test code only: the registry has no public way to do this
        gym.registry.pop("score/TrueGrader-v0", None)


def test_a_grader_that_never_returns_is_one_line_before_any_model(monkeypatch, capsys):
    """Every command grades an empty response before a run: a grader that hangs on it would hang the run."""
    from score_env import preflight

    monkeypatch.setattr(preflight, "GRADE_BOUND_S", 0.5)
    argv = ["eval", "import=tests.core.validate.broken_tasks", "env=broken-hang", "model=embedded"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not return within 0.5 s on an empty response" in err
