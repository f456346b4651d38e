"""Tasks broken on purpose, each the way the field keeps breaking them: ``score-env validate`` must name the check.

Registered in the ``score`` namespace under ``score/Broken*-v0`` when this module is imported (``import=`` takes it).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass

from score_env import Grade, Problem, PromptTask, register_task
from score_env.envs.code.extract import extract_code
from score_env.sandboxes import Limits, make_sandbox

PROBLEMS = [Problem(f"add/{i}", f"Write add(a, b) returning a + b (case {i}).", f"assert add({i}, 2) == {i + 2}",
                    {"entry_point": "add"}) for i in range(3)]  # fmt: skip
SOLUTION = "```python\ndef add(a, b):\n    return a + b\n```"


@dataclass(frozen=True)
class ExitCodeTask:
    """Pays for a program that exits 0 after the tests were appended: sys.exit(0) before them passes. Runs in a
    real sandbox (so nothing reaches the host), or, with ``host=True``, in a plain subprocess on the host."""

    host: bool = False
    name: str = "exit-code"
    problems: tuple = tuple(PROBLEMS)
    correction_instruction: str = "There might be an error. Rewrite the program."
    family: str = "code"
    sandbox: object = None

    def first_prompt(self, problem):
        from score_env.records import Message

        return (Message("user", problem.question),)

    def reference_response(self, problem):
        return SOLUTION

    def grade(self, problem, response):
        code = extract_code(response, "add")
        if code is None:
            return Grade.unparsable("no program")
        program = f"{code}\n{problem.reference}\n"
        if self.host:  # no isolation at all
            try:
                done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=2)
            except subprocess.TimeoutExpired:
                return Grade.wrong("timeout")
            return Grade.ok("exit 0") if done.returncode == 0 else Grade.wrong(f"exit {done.returncode}")
        result = self.sandbox.run(program, limits=Limits(timeout_s=2))
        return Grade.ok("exit 0") if result.exit_code == 0 else Grade.wrong(f"exit {result.exit_code}")

    def resolved_arguments(self):
        return {"sandbox": "none" if self.host else self.sandbox.name}

    def close(self):
        if self.sandbox is not None:
            self.sandbox.close()


class LeakyTask:
    """Tells the model, in the correction instruction, whether its last answer was right."""

    name = "leaky"
    family = "arithmetic"

    def __init__(self) -> None:
        self.problems = [Problem("leaky/0", "2 + 2", "4"), Problem("leaky/1", "3 + 3", "6")]
        self.last_right = False

    def first_prompt(self, problem):
        from score_env.records import Message

        return (Message("user", f"Compute {problem.question}. End with 'Answer: <integer>'."),)

    @property
    def correction_instruction(self) -> str:
        return "Check it." if self.last_right else "That is wrong. Check it."

    def reference_response(self, problem):
        return f"Answer: {problem.reference}"

    def grade(self, problem, response):
        from score_env.envs.arithmetic import grade_answer

        grade = grade_answer(problem, response)
        self.last_right = grade.correct
        return grade

    def close(self):
        pass


def hanging_task(split: str = "test") -> PromptTask:
    """A grader that never returns."""

    def grade(problem, response):
        threading.Event().wait(600)
        return Grade.wrong(response)

    return PromptTask("hangs", [Problem("hang/0", "Say hi.", "hi")], lambda p: p.question, "Again.", grade)


def exit_code_task(split: str = "test", sandbox: str = "auto") -> ExitCodeTask:
    return ExitCodeTask(sandbox=make_sandbox(sandbox))


def host_task(split: str = "test", sandbox: str = "none") -> ExitCodeTask:
    return ExitCodeTask(host=True)


register_task("score/BrokenExit0-v0", exit_code_task, short_name="broken-exit0", description="pays for exit 0",
              splits=("test",))  # fmt: skip
register_task("score/BrokenHost-v0", host_task, short_name="broken-host", description="runs answers on the host",
              splits=("test",))  # fmt: skip
register_task("score/BrokenLeak-v0", lambda split="test": LeakyTask(), short_name="broken-leak",
              description="leaks correctness into the next prompt", splits=("test",))  # fmt: skip
register_task("score/BrokenHang-v0", hanging_task, short_name="broken-hang", description="hangs", splits=("test",))
