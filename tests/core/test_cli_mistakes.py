"""Every mistake a new user met (issue 13), walked through the command line: exit code 2, one line naming what was
wrong, the value and what is allowed or what to do, no traceback, and no model loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from score_env.cli import main


@pytest.fixture
def no_model_loading(monkeypatch):
    from score_env.policies import factory

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the mistake was reported")

    monkeypatch.setattr(factory, "load_model_and_tokenizer", refuse)


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
    _check(["eval", *argv], message, capsys)


def test_train_mistakes_fail_before_a_run_directory_is_made(tmp_path, capsys, no_model_loading):
    run_dir = tmp_path / "run"
    _check(["train", "model=embedded", "tensorboard=true", f"run_dir={run_dir}"], "pip install", capsys)
    assert not run_dir.exists()  # the corrected command is not refused by a half-made run directory


def test_resume_mismatch_names_both_values(tmp_path, capsys, no_model_loading):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("seed: 0\n")
    _check(["train", "model=embedded", f"run_dir={run_dir}"], "then, ", capsys)


def _check(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("run directory")]
    assert message in err, err
    assert "Traceback" not in err and len(lines) == 1, err
    return err


def test_a_sandbox_that_cannot_run_here_is_one_line(capsys, monkeypatch):
    """bubblewrap missing (no bwrap on the PATH) and docker without an engine: one line each, before any model."""
    monkeypatch.setenv("PATH", "/nonexistent")
    _check(
        ["eval", "model=embedded", "env=humaneval", "env_kwargs.sandbox=bwrap"], "bubblewrap is not installed", capsys
    )
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    _check(
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
        _check(argv, "is in use by another run", capsys)
    finally:
        other.kill()
        other.wait()
    assert main(argv) == 0  # the killed run's lock went with it


def test_a_run_directory_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    argv = ["eval", "model=embedded", "env=arithmetic", "limit=2", f"run_dir={tmp_path / 'taken'}"]
    _check(argv, "cannot write the run directory", capsys)


@pytest.mark.parametrize(
    ("override", "message"),
    [("seeds=[0,0]", "0 given more than once"), ("methods=[prompting,score,score]", "score given more than once")],
)
def test_a_seed_or_method_named_twice_is_refused(override, message, capsys):
    _check(["benchmark", override], message, capsys)


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
        _check(argv, message, capsys)
    finally:
        registry._SPECS.pop("score/TrueGrader-v0", None)  # test code only: the registry has no public way to do this
        gym.registry.pop("score/TrueGrader-v0", None)


# A model folder that cannot load (issue 26, item 5): what an interrupted download or a wrong folder leaves is one
# line from the preflight, before any model loads, that says what to do. Each row damages a copy of the tiny model.
def _cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _index_without_shards(model):
    (model / "model.safetensors").unlink()
    shards = {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}
    (model / "model.safetensors.index.json").write_text(json.dumps({"weight_map": shards}))


def _set_model_type(model_type):
    def edit(model):
        config = json.loads((model / "config.json").read_text())
        (model / "config.json").write_text(json.dumps({**config, "model_type": model_type}))

    return edit


REDOWNLOAD = "an interrupted download? re-download the model, or save it again"
BROKEN_MODELS = {
    # id: (what is done to the folder, what the line says is wrong, what it says to do)
    "no weights": (lambda m: (m / "model.safetensors").unlink(), "no weights beside config.json", REDOWNLOAD),
    "missing shards": (_index_without_shards, "2 of the 2 weight files model.safetensors.index.json names", REDOWNLOAD),
    "truncated weights": (
        lambda m: _cut_in_half(m / "model.safetensors"),
        "model.safetensors is cut short",
        REDOWNLOAD,
    ),
    "corrupt header": (
        lambda m: (m / "model.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"not a header!!!!"),
        "model.safetensors has a corrupt safetensors header",
        REDOWNLOAD,
    ),
    "truncated config": (lambda m: _cut_in_half(m / "config.json"), "config.json is not valid JSON", REDOWNLOAD),
    "no tokenizer": (
        lambda m: [(m / name).unlink() for name in ("tokenizer.json", "tokenizer_config.json")],
        "no tokenizer files",
        REDOWNLOAD,
    ),
    "unknown model_type": (
        _set_model_type("frobnicator"),
        "model_type 'frobnicator', which transformers",
        "upgrade it (pip install -U transformers)",
    ),
    "not a causal LM": (_set_model_type("t5"), "'t5', which is not a causal language model", "give a decoder-only"),
}


@pytest.mark.parametrize(("corrupt", "wrong", "what_to_do"), BROKEN_MODELS.values(), ids=BROKEN_MODELS.keys())
def test_a_broken_model_folder_is_one_line(corrupt, wrong, what_to_do, tiny_model_dir, tmp_path, capsys,
                                           no_model_loading):  # fmt: skip
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    corrupt(model)
    err = _check(["eval", f"model={model}", "limit=1", f"run_dir={tmp_path / 'run'}"], wrong, capsys)
    assert f"model='{model}': " in err and what_to_do in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["train", "benchmark"])
def test_every_command_that_loads_a_model_checks_its_folder_first(command, tiny_model_dir, tmp_path, capsys,
                                                                  no_model_loading):  # fmt: skip
    """Training, and a benchmark before any of its methods runs (no report directory is made). ``sweep`` takes its
    model from a benchmark preset and goes through the same check."""
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    _cut_in_half(model / "model.safetensors")
    where = "run_dir" if command == "train" else "report_dir"
    _check([command, f"model={model}", f"{where}={tmp_path / 'out'}"], REDOWNLOAD, capsys)
    assert not (tmp_path / "out").exists()


def test_a_file_given_as_the_model_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "model.safetensors").write_bytes(b"")
    _check(["eval", f"model={tmp_path / 'model.safetensors'}"], "is a file, not a model directory", capsys)


def test_a_damaged_embedded_model_says_to_reinstall_score_env(tiny_model_dir, tmp_path, capsys, monkeypatch):
    from score_env import assets

    model = shutil.copytree(tiny_model_dir, tmp_path / "arithmetic-base")
    (model / "model.safetensors").unlink()
    monkeypatch.setattr(assets, "embedded_model_path", lambda: model)
    err = _check(["eval", "model=embedded"], "no weights beside config.json (none of model.safetensors", capsys)
    assert f"model='embedded' ({model}): " in err and "reinstall score-env" in err, err


def test_a_grader_that_never_returns_is_one_line_before_any_model(monkeypatch, capsys):
    """Every command grades an empty response before a run: a grader that hangs on it would hang the run."""
    from score_env import preflight

    monkeypatch.setattr(preflight, "GRADE_BOUND_S", 0.5)
    argv = ["eval", "import=tests.core.validate.broken_tasks", "env=broken-hang", "model=embedded"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not return within 0.5 s on an empty response" in err
