"""``score-env regrade``: an untouched run re-graded is the run (its metrics to the byte), a run graded by a buggy
grader is corrected with exactly the changed attempts listed, a benchmark report is re-graded directory by directory,
and every mistake is one line and exit 2 with nothing written."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from score_env.cli import main
from score_env.config.policy import PolicyConfig
from score_env.envs.arithmetic import FIRST_PROMPT, make_task
from score_env.layout import BenchmarkLayout, EvalLayout
from score_env.metrics import self_correction_metrics
from score_env.records import Attempt, Conversation, Episode, Grade
from score_env.registry import EnvFactory
from score_env.regrade import replay
from score_env.runs import read_episodes, write_episodes, write_metrics
from tests.conftest import ScriptedPolicy, turn_of

REFERENCES = {  # the benchmark's validation problems are train problems
    FIRST_PROMPT.format(expression=p.question): p.reference for s in ("test", "train") for p in make_task(s).problems
}


def answer(conversation: Conversation) -> str:
    """Right or wrong by the reference's value, so that every transition occurs (and an unparsable attempt 1)."""
    value = int(REFERENCES[conversation[0].content])
    if turn_of(conversation) == 1:
        right, unparsable = value % 3 != 1, value % 7 == 0
    else:
        right, unparsable = value % 2 == 0, False
    return "I do not know." if unparsable else f"So... Answer: {value if right else value + 1}"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An eval run and a one-method benchmark report, played by ``answer`` (no model) through the real commands."""
    root = tmp_path_factory.mktemp("regrade")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PolicyConfig, "load", lambda self, model: ScriptedPolicy(answer))
        argv = ["eval", "model=embedded", "limit=8", "bootstrap=50", f"run_dir={root / 'eval'}"]
        assert main(argv) == 0
        bench = [f"report_dir={root / 'bench'}", "methods=[prompting]", "eval_problems=4", "validation_problems=4",
                 "probe_problems=2", "sampled_eval.problems=2", "sampled_eval.samples=2", "scaling.problems=2",
                 "scaling.max_k=2", "ceiling_samples=2", "workers=1"]  # fmt: skip
        assert main(["benchmark", "config=benchmark_quick", *bench]) == 0
    return {"eval": root / "eval", "bench": root / "bench"}


@pytest.fixture
def run(played, tmp_path):
    """A fresh copy of a played run (regrade writes into it), as many as a test asks for."""
    copies = iter(range(100))
    return lambda kind: Path(shutil.copytree(played[kind], tmp_path / f"{kind}-{next(copies)}"))


def test_an_untouched_eval_run_is_reproduced_to_the_byte(run, capsys):
    eval_dir = run("eval")
    saved = {p.name: p.read_bytes() for p in eval_dir.iterdir() if p.is_file()}
    assert main(["regrade", str(eval_dir)]) == 0
    layout = EvalLayout(eval_dir)
    assert layout.metrics_regraded.read_text() == layout.metrics.read_text()
    assert layout.regrade_changes.read_text() == ""
    assert {p.name: p.read_bytes() for p in eval_dir.iterdir() if p.name in saved} == saved  # nothing overwritten
    out = capsys.readouterr().out
    assert "re-graded 16 attempts of the eval run" in out and "0 grades changed" in out
    assert str(layout.metrics_regraded) in out and str(layout.regrade_changes) in out


def test_grades_of_a_buggy_grader_are_corrected_and_exactly_those_are_listed(run, capsys):
    eval_dir = run("eval")
    layout = EvalLayout(eval_dir)
    right, episodes = layout.metrics.read_text(), read_episodes(layout.episodes)
    # (line, attempt): what the old grader got wrong there: the verdict, or the reward alone (disagreeing with it)
    edits = {(2, 2): "verdict", (5, 1): "verdict", (7, 2): "reward"}
    for (line, attempt), what in edits.items():
        e = episodes[line - 1]
        a = e.attempts[attempt - 1]
        flipped = Grade.wrong("?") if a.grade.correct else Grade.ok("?")
        buggy = replace(a, reward=1.0 - a.reward, grade=flipped if what == "verdict" else a.grade)
        attempts = tuple(buggy if t == attempt - 1 else other for t, other in enumerate(e.attempts))
        episodes[line - 1] = replace(e, attempts=attempts)
    write_episodes(layout.episodes, episodes)
    write_metrics(eval_dir, self_correction_metrics(episodes, attempts=2, n_bootstrap=50, seed=0))  # the buggy run's

    assert main(["regrade", str(eval_dir)]) == 0
    assert layout.metrics_regraded.read_text() == right  # the metrics of the right grades, to the byte
    assert layout.metrics.read_text() != right  # the run's own file is kept
    changes = [json.loads(line) for line in layout.regrade_changes.read_text().splitlines()]
    assert [(c["line"], c["attempt"]) for c in changes] == list(edits)
    original = read_episodes(run("eval") / "episodes.jsonl")
    for c in changes:  # each back to the grade the right grader gave in the run
        a = original[c["line"] - 1].attempts[c["attempt"] - 1]
        assert c["new"] == {"reward": a.reward, **a.grade.as_info()} and c["old"]["reward"] == 1.0 - a.reward
        assert c["problem_id"] == f"arithmetic/test/{c['problem_index']}" and c["turn"] == "attempt"
    assert "0 grades changed" not in capsys.readouterr().out


def test_a_grader_that_fails_now_gives_error_grades_counted_as_a_run_counts_them(run, monkeypatch, capsys):
    from score_env.envs import arithmetic

    grade = arithmetic.grade_answer

    def broken_on_problem_0(problem, response):
        if problem.id == "arithmetic/test/0":
            raise RuntimeError("the grader broke")
        return grade(problem, response)

    monkeypatch.setattr(arithmetic, "grade_answer", broken_on_problem_0)
    eval_dir = run("eval")
    assert main(["regrade", str(eval_dir)]) == 0
    metrics = json.loads(EvalLayout(eval_dir).metrics_regraded.read_text())
    assert metrics["reasons"]["t1"]["error"] == metrics["reasons"]["t2"]["error"] == 1  # not correct, not wrong
    changes = [json.loads(line) for line in EvalLayout(eval_dir).regrade_changes.read_text().splitlines()]
    assert [(c["line"], c["new"]["reason"], c["new"]["detail"]) for c in changes] == [
        (1, "error", "RuntimeError: the grader broke")
    ] * 2

    monkeypatch.setattr(arithmetic, "grade_answer", lambda problem, response: 1 / 0)  # fails on every attempt
    eval_dir = run("eval")
    assert main(["regrade", str(eval_dir)]) == 1  # as a run stops (rollout.MAX_ERROR_SHARE), with nothing written
    assert "were graded 'error'" in capsys.readouterr().err
    assert not any(eval_dir.glob("*regrade*"))


def test_a_benchmark_report_is_regraded_in_every_evaluation_directory(run, capsys):
    report = run("bench")
    base = BenchmarkLayout(report)
    method = base.method(0, "prompting")
    evaluations = [base.first_attempts, base.validation_first_attempts, method.eval, method.fixed, method.sampled,
                   method.sampled_fixed, method.scaling.one, method.scaling.two, method.ceiling]  # fmt: skip
    fixed = method.fixed.episodes
    episodes = read_episodes(fixed)
    e = episodes[0]
    a = e.attempts[1]
    episodes[0] = replace(e, attempts=(e.attempts[0], replace(a, reward=1.0 - a.reward)))
    write_episodes(fixed, episodes)

    assert main(["regrade", str(report)]) == 0
    for layout in evaluations:  # each measured as the benchmark measured it: the same metrics, to the byte
        assert layout.metrics_regraded.read_text() == layout.metrics.read_text(), layout.root
        assert layout.regrade_changes.read_text().count("\n") == (layout == method.fixed)
    result = json.loads((method.root / "result.json").read_text())
    assert json.loads(method.fixed.correction_regraded.read_text()) == result["fixed"]
    assert json.loads(method.sampled_fixed.correction_regraded.read_text()) == result["sampled"]["fixed"]
    assert "seed-0/prompting/fixed: 8 attempts, 1 changed" in capsys.readouterr().out


def test_a_self_verdict_is_graded_again_against_its_attempt():
    with EnvFactory("score/Arithmetic-v0", "test").open() as envs:
        problem = envs.task.problems[0]
        prompt = envs.task.first_prompt(problem)
        right = f"Answer: {problem.reference}"
        attempt = _attempt(prompt, right, Grade.wrong(problem.reference))  # an old grader called it wrong
        verdict = _attempt(prompt, "Verdict: correct", Grade.wrong("correct"))  # so the verdict was wrong
        episode = Episode(problem.id, 0, 0, (attempt,), (verdict,))
        new = replay(envs, episode)
    assert new.attempts[0].grade.correct and new.attempts[0].reward == 1.0
    assert new.verdicts[0].grade == Grade.ok("correct") and new.verdicts[0].reward == 1.0


def _attempt(prompt: Conversation, text: str, grade: Grade) -> Attempt:
    return Attempt(prompt, text, (1,), (-0.1,), "stop", grade.reward, grade)


def _edit_line(number: int, text: str):
    """A spoiler that replaces line ``number`` (from 1) of the run's episodes.jsonl with ``text``."""

    def edit(run_dir: Path) -> None:
        lines = (run_dir / "episodes.jsonl").read_text().splitlines(keepends=True)
        lines[number - 1] = text + "\n"
        (run_dir / "episodes.jsonl").write_text("".join(lines))

    return edit


def _set_config(**values):
    """A spoiler that changes keys of the run's config.yaml."""

    def edit(run_dir: Path) -> None:
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        (run_dir / "config.yaml").write_text(yaml.safe_dump({**config, **values}))

    return edit


def _keep(run_dir: Path) -> None:
    pass


# (how to spoil a copy of the eval run, the arguments after "regrade" ({run}: its directory), what the line says)
MISTAKES = {
    "missing": (_keep, ["{run}/nope"], "does not exist"),
    "a file": (_keep, ["{run}/episodes.jsonl"], "is a file"),
    "no config": (lambda d: (d / "config.yaml").unlink(), ["{run}"], "is not a run directory: it has no config.yaml"),
    "no episodes": (lambda d: (d / "episodes.jsonl").unlink(), ["{run}"], "holds no saved episodes"),
    "a training run": (lambda d: (d / "episodes.jsonl").rename(d / "metrics.jsonl"), ["{run}"], "is a training run"),
    "unregistered env": (_set_config(env="no-task"), ["{run}"], "task of your own, name the module that registers"),
    "a module not found": (_keep, ["{run}", "import=no_such_tasks"], "import='no_such_tasks'"),
    "other problems": (_set_config(env_kwargs={"digits": 2}), ["{run}"], "episodes.jsonl:1: problem 0 was"),
    "a corrupt line": (_edit_line(2, "{not json"), ["{run}"], "episodes.jsonl:2: not JSON"),
    "not an episode": (_edit_line(1, '{"problem_id": "x"}'), ["{run}"], "episodes.jsonl:1: not a saved episode"),
    "two directories": (_keep, ["{run}", "{run}"], "takes one run directory"),
    "an unknown key": (_keep, ["{run}", "limit=3"], "takes one run directory and optionally import=<module>"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_every_mistake_is_one_line_exit_2_and_writes_nothing(name, run, capsys):
    eval_dir = run("eval")
    spoil, argv, message = MISTAKES[name]
    spoil(eval_dir)
    capsys.readouterr()
    assert main(["regrade", *(a.format(run=eval_dir) for a in argv)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not any(eval_dir.glob("*regrade*"))
