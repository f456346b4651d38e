"""Shared fixtures: a scripted policy (no model) and a tiny local model (no network)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from score_env import envs  # noqa: F401  (registers the task envs)
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
    from score_env.envs.arithmetic import CORRECTION_INSTRUCTION, FIRST_PROMPT, make_task
    from score_env.tiny_model import save_tiny_model

    problems = make_task("train").problems[:500]
    corpus = [FIRST_PROMPT.format(expression=p.question) + f" Answer: {p.reference}" for p in problems]
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model", [*corpus, CORRECTION_INSTRUCTION])


WORDS = ("red", "blue", "green", "black", "white", "pink")


@pytest.fixture(scope="session")
def talking_model_dir(tiny_model_dir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model after 80 SFT steps: "Say <word>." -> the word repeated 1-6 times, then EOS. Greedy answers
    stop at different lengths, which exercises dropping finished rows from a batch."""
    import torch

    from score_env.learner.batch import build_batch, completion_ids, token_logprobs
    from score_env.learner.losses import sft_loss
    from score_env.policies.transformers_backend import load_model_and_tokenizer
    from score_env.records import Message

    model, tokenizer = load_model_and_tokenizer(str(tiny_model_dir))
    model.train()
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    examples = [
        ((Message("user", f"Say {word}."),), completion_ids(tokenizer, " ".join([word] * (i + 1))))
        for i, word in enumerate(WORDS)
    ]
    for _ in range(80):
        batch = build_batch(tokenizer, examples)
        loss = sft_loss(token_logprobs(model, batch), batch.loss_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    out = tmp_path_factory.mktemp("talking") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# What an `error` code grade may say: each is a failure no candidate can cause (envs/code/grading.py's rule).
INFRASTRUCTURE_CAUSES = (
    "sandbox: the sandbox did not run the driver",  # its first line comes before any candidate code
    "sandbox could not start",  # start() raised
    "sandbox: the solution stopped answering: the run's supervisor",  # decided outside the program
    "judge: the tests do not load",  # trusted tests
    "judge: cannot send the inputs",  # the tests' own inputs, before any answer came back
    "judge: the judge did not take the task",
    "judge: the judge died before the candidate's output reached it",
    "judge: the judge broke the protocol: ",
)


@pytest.fixture(autouse=True)
def _every_error_grade_has_a_cause_no_candidate_controls(request, monkeypatch):
    """Every code grade ``error`` in the suite comes from a test that breaks our side on purpose (marked
    ``infrastructure_failure``) and names one of ``INFRASTRUCTURE_CAUSES``; anywhere else it fails the test."""
    from score_env.envs.code.grading import CodeGrader
    from score_env.records import GradeReason

    errors, grade = [], CodeGrader.grade

    def recorded(self, problem, response):
        made = grade(self, problem, response)
        if made.reason is GradeReason.ERROR:
            errors.append(made.detail)
        return made

    monkeypatch.setattr(CodeGrader, "grade", recorded)
    yield
    if errors and request.node.get_closest_marker("infrastructure_failure") is None:
        pytest.fail(f"a code grade 'error' in a test that breaks nothing of ours: {errors[0][:300]!r}")
    unknown = [e for e in errors if not any(cause in e for cause in INFRASTRUCTURE_CAUSES)]
    assert not unknown, f"an 'error' grade whose cause a candidate may control: {unknown[0][:300]!r}"


@pytest.fixture(autouse=True)
def _agents_a_test_registers_are_its_own(monkeypatch):
    """An agent kind a test (or a README example) registers is gone after it, as tasks' test envs are."""
    from score_env.config import agents

    agents.registered_agents()  # the built-in kinds, loaded once
    monkeypatch.setattr(agents, "_AGENTS", dict(agents._AGENTS))
