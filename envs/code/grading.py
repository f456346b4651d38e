"""Grading a code attempt: the candidate in a sandbox, the tests in a judge, the verdict the judge's alone.

The candidate's process runs the model's code and the driver of :mod:`envs.code.wire`, and learns nothing but the
inputs of each call as it comes. A judge process (:mod:`envs.code.judge`), which never runs candidate code, holds
the tests, expected values and helpers from the dataset, calls the candidate through this relay, rebuilds each
answer as its own objects and decides. Limits, enforced from outside: each call's answer must come before the
attempt's wall-clock deadline (``Limits.wall_s``) and be at most ``max_reply_bytes``; the attempt's CPU time is
capped by the sandbox (``timeout_s``, RLIMIT_CPU of the candidate's process, which serves every call of the
attempt); the judge gets the candidate's deadline plus ``JUDGE_SLACK_S``. A fresh sandboxed process serves each
attempt (never reused: it ran untrusted code; with bwrap or process a fork of the sandbox's pre-started server, which
has the driver loaded: :mod:`sandboxes.forkserver`); judges are reused (:mod:`envs.code.judges`).

What this defends: every way for the candidate to reach the verdict, the tests or the expected values from inside
its process (frames, ``gc``, ``/proc/self/mem``, tracebacks, ``dis`` on its caller, ``sys.settrace``, patched
builtins or ``sys.modules``, redefined helpers, ``ctypes``, objects whose ``__eq__`` always holds, exiting early,
printing on the channel): none of them is there, and all it sends back is data the judge parses.

What it does not: a candidate still answers each call as it likes, so tests that a wrong program can pass (weak
tests, a test that never calls it) still pass, and it sees the inputs of every call it gets (reading its stdin ahead
only shows the call in flight); the backend's own limits apply (see :mod:`sandboxes`), including the docker warm
pool's shared ``/tmp`` between attempts (off by default); a candidate whose answer makes the trusted tests
themselves run past the judge's slack (no known case: answers are capped in size, depth and set/dict entries) gets
``error``, not ``wrong``: counted, never silent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from score_env.envs.code.extract import AST_LOCK, extract_code, syntax_error
from score_env.envs.code.judges import JudgePool, shared_judges
from score_env.envs.code.specs import TestSpec
from score_env.envs.code.wire import describe, driver_program, loads
from score_env.envs.worker_process import LineProcess
from score_env.records import Grade, GradeReason, Problem
from score_env.sandboxes import ExecutionResult, Limits, Sandbox, Session, Status

JUDGE_SLACK_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """What the relay saw: the judge's verdict (pass, fail, lost, error), or that the sandbox never ran the driver
    (sandbox), and why."""

    verdict: str
    detail: str


class CodeGrader:
    """Grades attempts at problems whose :class:`TestSpec` is in ``specs`` (by problem id). Thread-safe."""

    def __init__(
        self, sandbox: Sandbox, limits: Limits, specs: Mapping[str, TestSpec], judges: JudgePool | None = None
    ):
        self.sandbox, self.limits, self.specs = sandbox, limits, specs
        self.judges = judges or shared_judges()

    def grade(self, problem: Problem, response: str) -> Grade:
        name = self.sandbox.name
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
            outcome = self._relay(session, self.specs[problem.id])
        finally:
            result = session.finish()
        return _grade(code, outcome, result, name)

    def _relay(self, session: Session, spec: TestSpec) -> Outcome:
        if session.read_line() != b"{'driver': True}":  # written before any candidate code: not the candidate's
            return Outcome("sandbox", "the sandbox did not run the driver")
        ready = session.read_line()
        if ready is None:
            return Outcome("lost", "the solution never finished loading")
        if ready != b"{'ready': True}":
            return Outcome("fail", f"the solution failed to load: {_load_error(ready)}")
        with self.judges.lease() as judge:
            outcome = _judge(judge, session, spec.as_json(), session.deadline + JUDGE_SLACK_S)
            if outcome.verdict == "error":
                judge.kill()  # whatever went wrong, this judge is not reused
            return outcome


def _judge(judge: LineProcess, session: Session, task: dict, deadline: float) -> Outcome:
    """Relay the judge's calls to the candidate and its answers back, until the verdict."""
    if not judge.send(json.dumps({"task": task}).encode(), deadline):
        return Outcome("error", "the judge did not take the task (it died)")
    while (line := judge.read_line(deadline)) is not None:
        if line.startswith(b"V"):
            verdict = json.loads(line[1:])
            return Outcome(verdict["verdict"], verdict["detail"])
        if not line.startswith(b"C"):
            return Outcome("error", f"the judge broke the protocol: {line[:100]!r}")
        reply = session.read_line() if session.send(line[1:] + b"\n") else None
        answer = b"R" + reply if reply is not None else b"Lthe solution stopped answering"
        if not judge.send(answer, deadline):
            break
    return Outcome("error", f"the judge died or ran past its limit ({JUDGE_SLACK_S:g} s over the candidate's)")


def _grade(code: str, outcome: Outcome, result: ExecutionResult, sandbox: str) -> Grade:
    """The grade, from the judge's verdict and, when the candidate stopped answering, from how its run ended."""
    match outcome.verdict:
        case "pass":
            return Grade(True, GradeReason.OK, code, outcome.detail, sandbox)
        case "fail":
            return Grade(False, GradeReason.WRONG, code, outcome.detail, sandbox)
        case "error":
            return Grade(False, GradeReason.ERROR, code, f"judge: {outcome.detail}", sandbox)
    why = f"{outcome.detail}: {result.detail or result.status.value}"
    if result.stderr.strip():
        why += f"; stderr: {result.stderr.strip()[-300:]}"
    if outcome.verdict == "sandbox":
        return Grade(False, GradeReason.ERROR, code, f"sandbox: {why}", sandbox)
    match result.status:
        case Status.TIMEOUT:
            return Grade(False, GradeReason.TIMEOUT, code, why, sandbox)
        case Status.ERROR:
            return Grade(False, GradeReason.ERROR, code, f"sandbox: {why}", sandbox)
    return Grade(False, GradeReason.WRONG, code, why, sandbox)


def _load_error(line: bytes) -> str:
    """The error the driver reported while loading the solution (the candidate's own words: only for the detail)."""
    if len(line) > 4096:  # the driver's error messages are short; a long line is the candidate's own
        return f"unexpected output {line[:100]!r}"
    try:
        with AST_LOCK:  # literal_eval builds an AST (see extract.AST_LOCK)
            return str(loads(line.decode("utf-8", errors="replace"))["error"])[:500]
    except (ValueError, KeyError, TypeError, SyntaxError, MemoryError, RecursionError):
        return f"unexpected output {line[:100]!r}"
