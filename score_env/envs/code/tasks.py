"""HumanEval and MBPP as tasks: data, prompts, and the grader (the candidate in a sandbox, the tests in a judge)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from score_env.envs.code.driver import driver_module
from score_env.envs.code.grading import CodeGrader
from score_env.envs.code.prompts import CODE_CORRECTION_INSTRUCTION, humaneval_prompt, mbpp_prompt
from score_env.envs.code.specs import TestSpec, humaneval_spec, mbpp_spec
from score_env.records import Conversation, Grade, Problem
from score_env.sandboxes import Limits, Sandbox, make_sandbox
from score_env.sandboxes.warm import WarmStarts
from score_env.task import PromptTask

MBPP_SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}
MBPP_SHOTS = (2, 3, 4)


@dataclass(frozen=True)
class CodeTask:
    """A code task (a :class:`~score_env.task.Task`): its prompts, and its grader, whose sandbox runs every attempt's
    code and whose judges run the tests. The task owns both: :meth:`close` ends the judges, the sandbox's fork server
    and its warm starts."""

    prompts: PromptTask
    grader: CodeGrader

    @property
    def sandbox(self) -> str:
        """The backend that runs every attempt's code (``auto`` resolved): record it with the run's config."""
        return self.grader.sandbox.name

    @property
    def name(self) -> str:
        return self.prompts.name

    @property
    def problems(self) -> Sequence[Problem]:
        return self.prompts.problems

    @property
    def correction_instruction(self) -> str:
        return self.prompts.correction_instruction

    def first_prompt(self, problem: Problem) -> Conversation:
        return self.prompts.first_prompt(problem)

    def grade(self, problem: Problem, response: str) -> Grade:
        return self.prompts.grade(problem, response)

    @property
    def family(self) -> str | None:
        return self.prompts.family

    @property
    def reference_response(self) -> Callable[[Problem], str | None] | None:
        return self.prompts.reference_response

    @property
    def canaries(self) -> Sequence[str] | Callable[[Problem], Sequence[str]]:
        return self.prompts.canaries

    def resolved_arguments(self) -> Mapping[str, Any]:
        return {"sandbox": self.sandbox}

    def close(self) -> None:
        self.grader.close()
        close_sandbox(self.grader.sandbox)


def open_sandbox(name: str) -> Sandbox:
    """A sandbox of backend ``name`` (``auto`` resolved) as the code tasks run it: the judge's driver preloaded
    (envs/code/wire), and where a run starts slowly (a container), with warm starts (each attempt still gets a fresh
    sandbox of its own, started ahead: sandboxes.warm). A fork server's run starts in a few ms and needs none
    (sandboxes.forkserver). End it with :func:`close_sandbox`."""
    sandbox = make_sandbox(name, modules=driver_module())
    return WarmStarts(sandbox) if sandbox.slow_start else sandbox


def reference_program(problem: Problem) -> str:
    """The dataset's own solution, as a model would answer: a fenced Python program."""
    return f"```python\n{problem.metadata['canonical_solution']}\n```"


def close_sandbox(sandbox: Sandbox) -> None:
    """End a sandbox of :func:`open_sandbox`: its idle warm starts, then the backend under them."""
    sandbox.close()
    if isinstance(sandbox, WarmStarts):
        sandbox.sandbox.close()


def _grader(sandbox: str, timeout_s: float, memory_mb: int, specs: Mapping[str, TestSpec]) -> CodeGrader:
    return CodeGrader(open_sandbox(sandbox), Limits(timeout_s=timeout_s, memory_mb=memory_mb), specs)


def make_humaneval_task(
    split: str = "test", sandbox: str = "auto", timeout_s: float = 10.0, memory_mb: int = 512
) -> CodeTask:
    """HumanEval: 164 problems, one split (``test``)."""
    if split != "test":
        raise ValueError(f"HumanEval has one split, 'test'; got {split!r}")
    grader = _grader(sandbox, timeout_s, memory_mb, humaneval_specs())
    prompts = PromptTask(
        name="humaneval",
        problems=humaneval_problems(),
        render_prompt=lambda p: humaneval_prompt(p.question),
        correction_instruction=CODE_CORRECTION_INSTRUCTION,
        grade_response=grader.grade,
        family="code",
        reference_response=reference_program,
    )
    return CodeTask(prompts, grader)


def make_mbpp_task(
    split: str = "train", sandbox: str = "auto", timeout_s: float = 10.0, memory_mb: int = 512
) -> CodeTask:
    """MBPP by the standard task-id splits, with the standard 3-shot prompt."""
    if split not in MBPP_SPLITS:
        raise ValueError(f"MBPP split must be one of {sorted(MBPP_SPLITS)}, got {split!r}")
    rows = mbpp_rows()
    shots = [rows[i] for i in MBPP_SHOTS]
    grader = _grader(sandbox, timeout_s, memory_mb, mbpp_specs())
    low, high = MBPP_SPLITS[split]
    prompts = PromptTask(
        name="mbpp",
        problems=tuple(_mbpp_problem(rows[i]) for i in range(low, high + 1)),
        render_prompt=lambda p: mbpp_prompt(p.question, str(p.metadata["tests"]).splitlines(), shots),
        correction_instruction=CODE_CORRECTION_INSTRUCTION,
        grade_response=grader.grade,
        family="code",
        reference_response=reference_program,
    )
    return CodeTask(prompts, grader)


@lru_cache(maxsize=1)
def humaneval_specs() -> dict[str, TestSpec]:
    return {row["task_id"]: humaneval_spec(row) for row in _jsonl("HumanEval.jsonl.gz")}


@lru_cache(maxsize=1)
def mbpp_specs() -> dict[str, TestSpec]:
    return {f"mbpp/{i}": mbpp_spec(row, mbpp_entry_point(row)) for i, row in mbpp_rows().items()}


@lru_cache(maxsize=1)
def humaneval_problems() -> tuple[Problem, ...]:
    return tuple(
        Problem(
            id=row["task_id"],
            question=row["prompt"],
            reference=row["test"],
            metadata={
                "entry_point": row["entry_point"],
                "call": f"check({row['entry_point']})",
                "prepend_prompt": 1,
                "canonical_solution": row["prompt"] + row["canonical_solution"],
            },
        )
        for row in _jsonl("HumanEval.jsonl.gz")
    )


@lru_cache(maxsize=1)
def mbpp_rows() -> dict[int, dict[str, Any]]:
    return {row["task_id"]: row for row in _jsonl("mbpp.jsonl.gz")}


def mbpp_entry_point(row: Mapping[str, Any]) -> str:
    """The first function the reference solution defines that the tests call."""
    tests = "\n".join(row["test_list"])
    defined = re.findall(r"^def\s+(\w+)\s*\(", row["code"], flags=re.MULTILINE)
    called = [name for name in defined if re.search(rf"\b{name}\s*\(", tests)]
    return (called or defined or [""])[0]


def _mbpp_problem(row: dict[str, Any]) -> Problem:
    tests = "\n".join(row["test_list"])
    entry_point = mbpp_entry_point(row)
    return Problem(
        id=f"mbpp/{row['task_id']}",
        question=row["text"],
        reference=f"{row['test_setup_code']}\n{tests}".strip(),
        metadata={"entry_point": entry_point, "tests": tests, "canonical_solution": row["code"]},
    )


def _jsonl(name: str) -> list[dict[str, Any]]:
    data = resources.files("score_env.envs.code") / "data" / name
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
