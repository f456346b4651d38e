"""Model text never crashes a run (issue 24, item 4): ``score-env eval``, ``benchmark`` and ``view`` with a scripted
policy that answers each problem with one hostile family (``tests.hostile``). Everything is stored exactly in the run
directory, read back unchanged by a rerun, and shown escaped in the console, ``results.md`` and the page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import pytest

from score_env import registry
from score_env.benchmark.method import ERROR_CHARS
from score_env.cli import main
from score_env.config.policy import PolicyConfig
from score_env.envs.arithmetic import grade_answer, make_task
from score_env.layout import BenchmarkLayout, EvalLayout, TrainLayout
from score_env.records import Completion, Conversation, Episode, Grade, Problem
from score_env.registry import register_task
from score_env.runs import read_episodes, read_jsonl
from score_env.task import PromptTask
from score_env.text import escape_text
from score_env.training.session import TrainingSession
from score_env.view.html import embed_json, html_text
from score_env.view.model import DETAIL_TAIL
from tests.conftest import ScriptedPolicy
from tests.hostile import AGAIN, HOSTILE, hostile_episode

FAMILIES = list(HOSTILE.values())
HOSTILE_ENV = "score/Hostile-v0"
# What must never reach a page as it is (a NUL, a terminal escape, a bidirectional override...).
HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ERROR = "[/red] \ud800 \x1b[2J the agent broke on model text"


class HostilePolicy(ScriptedPolicy):
    """Problem i of the test split gets family i (attempt 2 appends ``AGAIN``), any other problem family 0; two
    token ids per answer, so that a megabyte answer does not log a million of them."""

    def __init__(self) -> None:
        prompts = make_task("test").first_prompt
        self.family = {prompts(p)[-1].content: i for i, p in enumerate(make_task("test").problems[: len(FAMILIES)])}
        super().__init__(self.answer)

    def answer(self, conversation: Conversation) -> str:
        first = next(m.content for m in conversation if m.role == "user")
        second = any(m.role == "assistant" for m in conversation)
        return FAMILIES[self.family.get(first, 0)] + (AGAIN if second else "")

    @staticmethod
    def _completion(text: str) -> Completion:
        return Completion(text, (1, 2), (-1.0, -1.0), "stop")


def quoting_grade(problem: Problem, response: str) -> Grade:
    """Arithmetic's grade with the response quoted in its detail, as a code task quotes what a program printed."""
    return replace(grade_answer(problem, response), detail=f"the program printed: {response}")


@pytest.fixture
def hostile_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's model is the hostile policy (the commands load it through ``PolicyConfig.load``)."""
    monkeypatch.setattr(PolicyConfig, "load", lambda self, model: HostilePolicy())


@pytest.fixture
def hostile_env() -> Iterator[str]:
    """``env=hostile``: arithmetic's problems, graded by ``quoting_grade``; taken out of the registry after."""

    def make_hostile_task(split: str = "train") -> PromptTask:
        return replace(make_task(split), name="hostile", grade_response=quoting_grade)

    register_task(HOSTILE_ENV, make_hostile_task, short_name="hostile", description="arithmetic quoting the response")
    yield "hostile"
    registry._SPECS.pop(HOSTILE_ENV, None)  # test code only: the registry has no public way to do this
    gym.registry.pop(HOSTILE_ENV, None)


def assert_exact(episodes: list[Episode], details: bool = False) -> None:
    """Episode i holds family i exactly, in both attempts (and in the grades' details)."""
    for episode in episodes:
        expected = FAMILIES[episode.problem_index]
        texts = [a.text for a in episode.attempts]
        assert texts == [expected, expected + AGAIN][: len(texts)], episode.problem_id
        if details:
            assert [a.grade.detail for a in episode.attempts] == [f"the program printed: {t}" for t in texts]


def assert_page_shows(page_path: Path, texts: Iterable[str]) -> str:
    """The page is valid UTF-8, holds no hidden character, and embeds each text as shown (escaped)."""
    page = page_path.read_bytes().decode("utf-8")  # strict
    assert not HIDDEN.search(page)
    for text in texts:
        assert embed_json(escape_text(text))[1:-1] in page, escape_text(text, 80)
    return page


def test_eval_stores_hostile_responses_exactly_and_view_shows_them_escaped(hostile_policy, tmp_path, capsys):
    run_dir = tmp_path / "eval"
    argv = ["eval", "agent=prompting", "env=arithmetic", "model=embedded", f"limit={len(FAMILIES)}", "bootstrap=20",
            f"run_dir={run_dir}"]  # fmt: skip
    assert main(argv) == 0
    (EvalLayout(run_dir).episodes).read_bytes().decode("utf-8")  # strict UTF-8
    episodes = read_episodes(EvalLayout(run_dir).episodes)
    assert sorted(e.problem_index for e in episodes) == list(range(len(FAMILIES)))
    assert_exact(episodes)
    assert main(argv) == 0  # the rerun reads back and rewrites what the first run wrote
    assert read_episodes(EvalLayout(run_dir).episodes) == episodes
    assert "\x1b" not in capsys.readouterr().out

    assert main(["view", str(run_dir)]) == 0
    assert_page_shows(run_dir / "view.html", [*FAMILIES, *(t + AGAIN for t in FAMILIES)])


def test_benchmark_stores_hostile_text_and_details_exactly_and_shows_a_hostile_error_escaped(
    hostile_policy, hostile_env, monkeypatch, tmp_path, capsys
):
    from dataclasses import replace as replaced

    from score_env.config import agents

    def broken(config, policy):
        raise RuntimeError(ERROR)

    monkeypatch.setitem(agents._AGENTS, "sft", replaced(agents.agent_spec("sft"), build=broken))
    report = tmp_path / "report"
    argv = ["benchmark", "config=benchmark_quick", "methods=[prompting,sft]", f"env={hostile_env}",
            f"eval_problems={len(FAMILIES)}", f"report_dir={report}"]  # fmt: skip
    assert main(argv) == 0
    for run in ("first-attempts", "seed-0/prompting/eval", "seed-0/prompting/fixed", "seed-0/prompting/sampled"):
        assert_exact(read_episodes(EvalLayout(report / run).episodes), details=True)
    message = escape_text(f"RuntimeError: {ERROR}", ERROR_CHARS, one_line=True)
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert results[1] == {"name": "sft", "seed": 0, "error": message, "status": "failed"}
    assert f"- sft (seed 0) failed: {message}" in (report / "results.md").read_text(encoding="utf-8")
    assert "\\ud800" in BenchmarkLayout(report).method(0, "sft").error.read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "sft (seed 0) failed" in out and "[/red]" in out and "\x1b" not in out

    assert main(argv) == 0  # a rerun keeps both outcomes, read back
    assert "\x1b" not in capsys.readouterr().out

    assert main(["view", str(report)]) == 0
    details = [f"the program printed: {t}"[-DETAIL_TAIL:] for t in FAMILIES]
    page = assert_page_shows(report / "view.html", [*FAMILIES, *details])
    assert html_text(message, 600) in page


def test_view_of_a_training_run_shows_hostile_samples_and_data_escaped(tmp_path):
    """A training run's ``samples.jsonl`` and SFT ``data/*.json``, written by ``TrainingSession``'s own writers (they
    need only the run directory and whether this is the main process: no model)."""
    episodes = [hostile_episode(i, text) for i, text in enumerate(FAMILIES)]
    rows = [{"prompt": [m.as_dict() for m in e.attempts[1].prompt], "target": [1, 2, 3]} for e in episodes]
    played, trained = tmp_path / "score", tmp_path / "sft"
    for run_dir in (played, trained):
        run_dir.mkdir()
        TrainLayout(run_dir).metrics_log.write_text("")
    session = SimpleNamespace(
        run_dir=played, accelerator=SimpleNamespace(is_main_process=True, wait_for_everyone=lambda: None)
    )
    for step in range(len(episodes) // 2):
        TrainingSession.record_samples(session, step + 1, "stage1", episodes[2 * step :])
    assert [Episode.from_json(s["episode"]).attempts[1].text for s in read_jsonl(TrainLayout(played).samples_log)] == [
        t + AGAIN for t in FAMILIES
    ]
    session.run_dir = trained
    TrainingSession.save_data(session, "pairs", rows, episodes=len(rows))
    assert TrainingSession.load_data(session, "pairs") == rows

    assert main(["view", str(played)]) == 0
    assert_page_shows(played / "view.html", [*FAMILIES, *(t + AGAIN for t in FAMILIES)])
    assert main(["view", str(trained)]) == 0
    assert_page_shows(trained / "view.html", FAMILIES)
