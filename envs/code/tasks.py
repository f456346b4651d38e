"""HumanEval and MBPP as tasks: data, prompts, and the sandboxed grader."""

from __future__ import annotations

import gzip
import json
import re
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

from score_env.envs.code.extract import extract_code, syntax_error
from score_env.envs.code.harness import build_program, new_nonce, passed
from score_env.envs.code.prompts import CODE_CORRECTION_INSTRUCTION, humaneval_prompt, mbpp_prompt
from score_env.records import Grade, GradeReason, Problem
from score_env.sandboxes import Limits, Sandbox, Status, make_sandbox
from score_env.task import PromptTask

MBPP_SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}
MBPP_SHOTS = (2, 3, 4)


class CodeGrader:
    """Runs an attempt's program against the problem's tests in a sandbox and reads the verdict."""

    def __init__(self, sandbox: Sandbox, limits: Limits):
        self.sandbox, self.limits = sandbox, limits

    def grade(self, problem: Problem, response: str) -> Grade:
        entry_point = str(problem.metadata["entry_point"])
        code = extract_code(response, entry_point)
        if code is None:
            return Grade.unparsable("no code in the response")
        if problem.metadata.get("prepend_prompt") and not re.search(rf"def\s+{entry_point}\s*\(", code):
            code = f"{problem.question}\n{code}"  # a completion of the body only: put the signature back
        if error := syntax_error(code):
            return Grade(False, GradeReason.UNPARSABLE, code, error)
        nonce = new_nonce()
        program = build_program(code, problem.reference, entry_point, str(problem.metadata.get("call", "")))
        result = self.sandbox.run(program, limits=self.limits, stdin=nonce + "\n")
        match result.status:
            case Status.TIMEOUT:
                return Grade(False, GradeReason.TIMEOUT, code, result.detail)
            case Status.ERROR:
                return Grade(False, GradeReason.ERROR, code, result.detail + ": " + result.stderr[-300:])
            case Status.MEMORY | Status.OUTPUT_LIMIT:
                return Grade.wrong(code, result.detail)
        ok, why = passed(result.stdout, nonce)
        if ok and result.status is Status.OK:
            return Grade.ok(code)
        return Grade.wrong(code, why or result.detail)


_sandboxes: dict[str, Sandbox] = {}
_lock = threading.Lock()


def shared_sandbox(name: str) -> Sandbox:
    """One sandbox per backend for the process (the process backend's uid slots must be shared)."""
    with _lock:
        if name not in _sandboxes:
            _sandboxes[name] = make_sandbox(name)
        return _sandboxes[name]


def make_humaneval_task(
    split: str = "test", sandbox: str = "auto", timeout_s: float = 10.0, memory_mb: int = 512
) -> PromptTask:
    """HumanEval: 164 problems, one split (``test``)."""
    if split != "test":
        raise ValueError(f"HumanEval has one split, 'test'; got {split!r}")
    grader = CodeGrader(shared_sandbox(sandbox), Limits(timeout_s=timeout_s, memory_mb=memory_mb))
    return PromptTask(
        name="humaneval",
        problems=humaneval_problems(),
        render_prompt=lambda p: humaneval_prompt(p.question),
        correction_instruction=CODE_CORRECTION_INSTRUCTION,
        grade_response=grader.grade,
    )


def make_mbpp_task(
    split: str = "train", sandbox: str = "auto", timeout_s: float = 10.0, memory_mb: int = 512
) -> PromptTask:
    """MBPP by the standard task-id splits, with the standard 3-shot prompt."""
    if split not in MBPP_SPLITS:
        raise ValueError(f"MBPP split must be one of {sorted(MBPP_SPLITS)}, got {split!r}")
    rows = mbpp_rows()
    shots = [rows[i] for i in MBPP_SHOTS]
    grader = CodeGrader(shared_sandbox(sandbox), Limits(timeout_s=timeout_s, memory_mb=memory_mb))
    low, high = MBPP_SPLITS[split]
    return PromptTask(
        name="mbpp",
        problems=tuple(_mbpp_problem(rows[i]) for i in range(low, high + 1)),
        render_prompt=lambda p: mbpp_prompt(p.question, str(p.metadata["tests"]).splitlines(), shots),
        correction_instruction=CODE_CORRECTION_INSTRUCTION,
        grade_response=grader.grade,
    )


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


def _mbpp_problem(row: dict[str, Any]) -> Problem:
    tests = "\n".join(row["test_list"])
    # The entry point: the first function the reference solution defines that the tests call.
    defined = re.findall(r"^def\s+(\w+)\s*\(", row["code"], flags=re.MULTILINE)
    called = [name for name in defined if re.search(rf"\b{name}\s*\(", tests)]
    entry_point = (called or defined or [""])[0]
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
