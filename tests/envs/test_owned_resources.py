"""A run closes what it opened (issue 25, item 5): once ``score-env eval``, ``train`` or ``benchmark`` returns, no
grader worker, judge, fork server or sandbox it started is left among this process's children (read from /proc, with
no help from exit handlers). Each command runs in this process with a scripted answer that reaches the grader's
processes (code that runs, a boxed answer), and the test checks they were running while the command was."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from score_env.cli import main
from score_env.config.policy import PolicyConfig
from score_env.records import Conversation
from tests.conftest import ScriptedPolicy

ANSWERS = {
    "humaneval": "```python\ndef f(x):\n    return x\n```",  # runs in the sandbox; the judge's tests fail it
    "math": "The final answer is $\\boxed{2}$.",  # sent to a math-verify worker
}


def children() -> dict[int, str]:
    """This process's child processes, by pid, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            if ppid == os.getpid():
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):  # exited meanwhile
            continue
    return found


class Watching(ScriptedPolicy):
    """Answers every attempt with ``answer``; at each later attempt, notes the children started since ``before``
    (the graders of the first attempts are up by then)."""

    def __init__(self, answer: str, before: set[int], seen: dict[int, str]):
        self.before, self.seen = before, seen
        super().__init__(self.respond)
        self.answer = answer

    def respond(self, conversation: Conversation) -> str:
        if any(m.role == "assistant" for m in conversation):
            self.seen.update({pid: cmd for pid, cmd in children().items() if pid not in self.before})
        return self.answer


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch):
    """``watch(env)``: every command's model answers for ``env`` (``PolicyConfig.load`` patched; with
    ``model_policy``, a real model to train whose sampling answers so); returns the children seen during the
    commands (filled as they run) and the children before."""

    def start(env: str, *, model_policy: bool = False) -> tuple[dict[int, str], set[int]]:
        before, seen = set(children()), {}
        real_load = PolicyConfig.load

        def load(self, model):
            scripted = Watching(ANSWERS[env], before, seen)
            if not model_policy:
                return scripted
            policy = real_load(self, model)  # a model to train, answering with the script
            policy.generate = scripted.generate
            return policy

        monkeypatch.setattr(PolicyConfig, "load", load)
        return seen, before

    return start


def left_over(before: set[int], timeout_s: float = 10.0) -> dict[int, str]:
    """Children started since ``before`` still there after ``timeout_s`` (a fork server exits once it reads EOF)."""
    deadline = time.monotonic() + timeout_s
    while (left := {p: c for p, c in children().items() if p not in before}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@pytest.mark.parametrize("env", [pytest.param("humaneval", marks=needs_bwrap), "math"])
def test_eval_leaves_no_grader_process(env, watch, tmp_path):
    seen, before = watch(env)
    argv = ["eval", "agent=prompting", f"env={env}", "model=embedded", "limit=3", "bootstrap=10"]
    assert main([*argv, f"run_dir={tmp_path / 'eval'}"]) == 0
    assert seen, "no grader process was started: the test would prove nothing"
    assert left_over(before) == {}


def test_train_leaves_no_grader_process(watch, tiny_model_dir, tmp_path):
    seen, before = watch("math", model_policy=True)
    argv = ["train", "agent=sft", "env=math", f"model={tiny_model_dir}", "agent.problems=3", "agent.updates=1",
            "agent.batch_size=2", "samples=1", "sampling.max_new_tokens=8",
            f"run_dir={tmp_path / 'train'}"]  # fmt: skip
    assert main(argv) == 0
    assert seen, "no grader process was started: the test would prove nothing"
    assert left_over(before) == {}


def test_benchmark_leaves_no_grader_process(watch, tmp_path):
    seen, before = watch("math")
    argv = ["benchmark", "config=benchmark_quick", "methods=[prompting]", "env=math", "eval_problems=2",
            "probe_problems=2", "sampled_eval.problems=2", "scaling.problems=0", "ceiling_samples=0",
            f"report_dir={tmp_path / 'report'}"]  # fmt: skip
    assert main(argv) == 0
    assert seen, "no grader process was started: the test would prove nothing"
    assert left_over(before) == {}


@needs_bwrap
def test_a_code_env_of_gymnasium_make_ends_its_processes_on_close():
    import gymnasium as gym

    before = set(children())
    env = gym.make("score/HumanEval-v0")
    env.reset(options={"index": 0})
    env.step(ANSWERS["humaneval"])
    assert {p for p in children() if p not in before}, "the attempt started no sandbox or judge"
    env.close()
    assert left_over(before) == {}
