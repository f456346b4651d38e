"""Shared fixtures: a scripted policy (no model) and a tiny local model (no network)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import envs  # noqa: F401  (registers the task envs)
from score_env.policies import SamplingParams
from score_env.records import Completion, Conversation

Script = Callable[[Conversation], str]


class ScriptedPolicy:
    """A :class:`~score_env.policies.Policy` that answers with a function of the conversation; records calls."""

    def __init__(self, script: Script):
        self.script = script
        self.calls: list[tuple[list[Conversation], SamplingParams]] = []

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        self.calls.append((list(conversations), params))
        return [[self._completion(self.script(c)) for _ in range(params.n)] for c in conversations]

    @staticmethod
    def _completion(text: str) -> Completion:
        ids = tuple(ord(ch) for ch in text)
        return Completion(text, ids, tuple(-1.0 for _ in ids), "stop")


def turn_of(conversation: Conversation) -> int:
    """1 for the first attempt, 2 for the second, ..."""
    return 1 + sum(m.role == "assistant" for m in conversation)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from envs.arithmetic import CORRECTION_INSTRUCTION, FIRST_PROMPT, make_task
    from score_env.tiny_model import save_tiny_model

    problems = make_task("train").problems[:500]
    corpus = [FIRST_PROMPT.format(expression=p.question) + f" Answer: {p.reference}" for p in problems]
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model", [*corpus, CORRECTION_INSTRUCTION])
