"""Grading a code attempt: the candidate in a sandbox, the tests in a judge, the verdict the judge's alone.

The candidate's process runs the model's code and the driver of :mod:`envs.code.wire`, and learns nothing but the
inputs of each call as it comes. A judge process (:mod:`envs.code.judge`), which never runs candidate code, holds
the tests, expected values and helpers from the dataset, calls the candidate through this relay, rebuilds each
answer as its own objects and decides. Limits, enforced from outside: each call's answer must come before the
attempt's wall-clock deadline (``Limits.wall_s``) and be at most ``max_reply_bytes``; the attempt's CPU time is
capped by the sandbox (``timeout_s``, RLIMIT_CPU of the candidate's process, which serves every call of the
attempt); the judge gets the same CPU time and memory per attempt (:mod:`envs.code.judge`) and the candidate's
wall-clock deadline plus ``JUDGE_SLACK_S``. A fresh sandboxed process serves each attempt (never reused: it ran
untrusted code; with bwrap or process a fork of the sandbox's pre-started server, which has the driver loaded:
:mod:`sandboxes.forkserver`); judges are reused (:mod:`envs.code.judges`).

What this defends: every way for the candidate to reach the verdict, the tests or the expected values from inside
its process (frames, ``gc``, ``/proc/self/mem``, tracebacks, ``dis`` on its caller, ``sys.settrace``, patched
builtins or ``sys.modules``, redefined helpers, ``ctypes``, objects whose ``__eq__`` always holds, exiting early,
printing on the channel): none of them is there, and all it sends back is data the judge parses.

Fault attribution (the rule every backend shares): a grade is ``error`` only for what no candidate can cause: the
sandbox could not start or never ran the driver (whose first line comes before any of the candidate's code), the
judge could not take the task, died or failed before any byte of the candidate's reached it, the tests do not load.
From the moment the candidate's output reaches the host or the judge, anything that goes wrong is the candidate's
failure, reward 0, with a reason of its own, counted in the loss and the baselines like a wrong answer: output
that is not the protocol or past its bounds (``invalid``), a judge that overruns its CPU or wall-clock limit on the
candidate's answers (``timeout``) or its memory (``memory``), a judge that dies on them (``invalid``), an exception
in this relay while it reads the candidate's output (``invalid``). A sandbox that reports a failure of its own
(a run's supervisor gone) is ``error`` at any time: a backend decides that from evidence outside the program, which
the conformance suite shows no program can produce (it cannot signal its parent or leave its namespaces). So no
candidate can choose ``error``, which the
learner leaves out of the loss and which stops a run when it is common (``rollout.GradingFailed``).

What it does not defend: a candidate still answers each call as it likes, so tests that a wrong program can pass
(weak tests, a test that never calls it) still pass, and it sees the inputs of every call it gets (reading its
stdin ahead only shows the call in flight); the backend's own limits apply (see :mod:`sandboxes`), including the
docker warm pool's shared ``/tmp`` between attempts (off by default).
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

from score_env.envs.code.driver import driver_program
from score_env.envs.code.extract import extract_code, syntax_error
from score_env.envs.code.judges import JudgePool
from score_env.envs.code.replies import InvalidReply, read_ready
from score_env.envs.code.specs import TestSpec
from score_env.envs.code.wire import DRIVER_LINE, describe
from score_env.envs.worker_process import LineProcess
from score_env.records import Grade, GradeReason, Problem
from score_env.sandboxes import ExecutionResult, Limits, Sandbox, Session, Status

JUDGE_SLACK_S = 30.0
MAX_READY_BYTES = 8192  # the driver's ready line: an error message of at most 1000 characters, escaped


@dataclass(frozen=True)
class Outcome:
    """What the relay saw: the judge's verdict (pass, fail, invalid, memory, timeout, lost, error), or that the
    sandbox never ran the driver (sandbox), and why; ``recycle``: the judge must not grade again."""

    verdict: str
    detail: str
    recycle: bool = False


class CodeGrader:
    """Grades attempts at problems whose :class:`TestSpec` is in ``specs`` (by problem id). Thread-safe."""

    def __init__(
        self, sandbox: Sandbox, limits: Limits, specs: Mapping[str, TestSpec], judges: JudgePool | None = None
    ):
        self.sandbox, self.limits, self.specs = sandbox, limits, specs
        self.judges = judges or JudgePool()

    def close(self) -> None:
        """End the judges (the sandbox is its owner's to close: the code task's)."""
        self.judges.close()

    def grade(self, problem: Problem, response: str) -> Grade:
        name, spec = self.sandbox.name, self.specs[problem.id]
        entry_point = str(problem.metadata["entry_point"])
        code = extract_code(response, entry_point)
        if code is None:
            return Grade(False, GradeReason.UNPARSABLE, None, "no code in the response", name)
        if problem.metadata.get("prepend_prompt") and not re.search(rf"def\s+{entry_point}\s*\(", code):
            code = f"{problem.question}\n{code}"  # a completion of the body only: put the signature back
        if error := syntax_error(code):
            return Grade(False, GradeReason.UNPARSABLE, code, error, name)
        try:
            session = self.sandbox.start(driver_program(code), limits=self.limits)
        except Exception as error:  # noqa: BLE001  (the sandbox boundary: a failure of ours is an `error` grade)
            return Grade(False, GradeReason.ERROR, code, f"the {name} sandbox could not start: {describe(error)}", name)
        try:
            outcome = self._relay(session, problem.id, spec)
        finally:
            result = session.finish()
        return _grade(code, outcome, result, name)

    def _relay(self, session: Session, problem_id: str, spec: TestSpec) -> Outcome:
        if session.read_line() != DRIVER_LINE:  # written before any candidate code: not the candidate's
            return Outcome("sandbox", "the sandbox did not run the driver")
        try:  # from here on, the candidate's output is in play: whatever goes wrong is its failure, not ours
            return self._judge(session, problem_id, spec)
        except Exception as error:  # noqa: BLE001  (the grader boundary, on the candidate's output)
            return Outcome("invalid", f"reading the candidate's output failed: {describe(error)}", recycle=True)

    def _judge(self, session: Session, problem_id: str, spec: TestSpec) -> Outcome:
        ready = session.read_line()
        if ready is None:
            return Outcome("lost", "the solution never finished loading")
        try:
            if len(ready) > MAX_READY_BYTES:
                raise InvalidReply(f"a line of {len(ready)} bytes")
            load_error = read_ready(ready)
        except InvalidReply as error:
            return Outcome("invalid", f"the program wrote what is not the driver's ready message: {error}")
        if load_error is not None:
            return Outcome("fail", f"the solution failed to load: {load_error[:500]}")
        request = {
            "task": spec.as_json(),
            "seed": problem_id,  # every attempt at this problem draws the same inputs
            "cpu_s": self.limits.timeout_s,
            "memory_bytes": self.limits.memory_mb << 20,
        }
        with self.judges.lease() as judge:
            try:
                outcome = _relay(judge, session, request, session.deadline + JUDGE_SLACK_S)
            except BaseException:
                judge.kill()  # out of step with the protocol: never reused
                raise
            if outcome.recycle:
                judge.kill()  # whatever went wrong, this judge is not reused
            return outcome


def _relay(judge: LineProcess, session: Session, request: dict, deadline: float) -> Outcome:
    """Relay the judge's calls to the candidate and its answers back, until the verdict."""
    replied = False  # whether any of the candidate's output reached the judge
    if not judge.send(json.dumps(request).encode(), deadline):
        return _judge_failed(judge, replied, deadline, "did not take the task")
    while (line := judge.read_line(deadline)) is not None:
        if line.startswith(b"V"):
            verdict = json.loads(line[1:])
            return Outcome(verdict["verdict"], verdict["detail"], verdict["recycle"])
        if not line.startswith(b"C"):
            return _judge_failed(judge, replied, deadline, f"broke the protocol: {line[:100]!r}")
        reply = session.read_line() if session.send(line[1:] + b"\n") else None
        replied = True
        if not judge.send(b"R" + reply if reply is not None else b"Lthe solution stopped answering", deadline):
            break
    return _judge_failed(judge, replied, deadline, "died")


def _judge_failed(judge: LineProcess, replied: bool, deadline: float, what: str) -> Outcome:
    """A judge that stopped answering: ours before the candidate's output reached it, the candidate's after."""
    overran = time.monotonic() >= deadline
    judge.kill()
    code = judge.proc.returncode
    if not replied:
        return Outcome("error", f"the judge {what} before the candidate's output reached it (exit code {code})", True)
    if overran:
        return Outcome("timeout", "the tests ran past the judge's wall-clock limit on the candidate's answers", True)
    if code == -signal.SIGXCPU:
        return Outcome("timeout", "the tests used up the judge's CPU time on the candidate's answers", True)
    return Outcome("invalid", f"the judge {what} on the candidate's answers (exit code {code})", True)


def _grade(code: str, outcome: Outcome, result: ExecutionResult, sandbox: str) -> Grade:
    """The grade, from the judge's verdict and, when the candidate stopped answering, from how its run ended."""
    if reason := _JUDGED.get(outcome.verdict):
        detail = f"judge: {outcome.detail}" if reason is GradeReason.ERROR else outcome.detail
        return Grade(reason is GradeReason.OK, reason, code, detail, sandbox)
    why = f"{outcome.detail}: {result.detail or result.status.value}"
    if result.stderr.strip():
        why += f"; stderr: {result.stderr.strip()[-300:]}"
    if outcome.verdict == "sandbox":
        return Grade(False, GradeReason.ERROR, code, f"sandbox: {why}", sandbox)
    if result.status is Status.ERROR:  # decided outside the program (a supervisor gone): see the module doc
        return Grade(False, GradeReason.ERROR, code, f"sandbox: {why}", sandbox)
    return Grade(False, _ENDED.get(result.status, GradeReason.WRONG), code, why, sandbox)  # how its run ended


_JUDGED = {
    "pass": GradeReason.OK, "fail": GradeReason.WRONG, "invalid": GradeReason.INVALID,
    "memory": GradeReason.MEMORY, "timeout": GradeReason.TIMEOUT, "error": GradeReason.ERROR,
}  # fmt: skip
_ENDED = {
    Status.TIMEOUT: GradeReason.TIMEOUT, Status.MEMORY: GradeReason.MEMORY, Status.OUTPUT_LIMIT: GradeReason.INVALID,
}  # fmt: skip
