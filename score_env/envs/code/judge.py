"""The judge: runs a task's trusted tests against a candidate it reaches only through calls. Never runs its code.

A judge is a long-lived worker process (:mod:`envs.code.judges` starts it with ``-I -S``: the standard library and
these modules only) that grades one attempt after another. For each, the host sends the task (:class:`~envs.code.
specs.TestSpec`): the prelude (the HumanEval prompt with its helpers, or the imports an MBPP test relies on: from the
dataset, never from the candidate), the tests, and the names that stand for the candidate. The judge runs the
prelude, binds each of those names to a :class:`Remote` stub, and runs the tests (HumanEval: ``check(entry)``). A
stub sends the call's inputs to the host, which relays them to the candidate's driver in the sandbox and relays its
answer back; the stub rebuilds the answer as the judge's own objects (:mod:`envs.code.replies`) and returns it, so
every comparison the tests make is between objects the judge built. The judge alone decides the verdict.

Each attempt runs inside its own limits, set when its task arrives: ``cpu_s`` seconds of CPU time (RLIMIT_CPU, from
what the judge used so far: the kernel kills it at the limit) and ``memory_bytes`` of address space (RLIMIT_AS: a
``MemoryError``), and the ``random`` module seeded with the task's ``seed``, so every attempt at a task sees the same
inputs whatever ran before.

Fault attribution: ``error`` is reserved for what no candidate can cause. Once a reply of the candidate has reached
the judge, anything that goes wrong is the candidate's failure, with a reason of its own, never ``error``: a reply
that is not valid data or past the format's bounds (``invalid``), tests that run out of memory on its answers
(``memory``), or past the CPU limit (the host sees the judge killed: ``timeout``), tests that cannot pass its own
answers back to it (``invalid``). Before that, a failure is ours (``error``): tests that do not load, tests that
pass the candidate something the format cannot carry, a judge that dies.

Protocol (stdin/stdout, one line each; the tests' own prints go to stderr):
- host to judge: ``{"task": ..., "seed": ..., "cpu_s": ..., "memory_bytes": ...}``; then, for each call,
  ``R<the candidate's reply line>`` or ``L<why>`` when the candidate is gone (a limit, a crash: the host knows, the
  candidate cannot send an ``L``).
- judge to host: ``C<call message>`` (forwarded verbatim to the candidate), then ``V{"verdict": ..., "detail": ...,
  "recycle": ...}`` with the verdict ``pass``, ``fail`` (a test failed or the candidate raised), ``invalid``,
  ``memory``, ``lost`` (the candidate stopped answering) or ``error``; ``recycle``: this judge should not grade
  again (it ran out of memory, or holds more than it should).
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import sys
import traceback

from score_env.envs.code.replies import InvalidReply, read_answer
from score_env.envs.code.wire import describe, dumps, encode


class CandidateGone(BaseException):
    """The attempt is over: the candidate stopped answering, or sent what is not an answer. A BaseException, so no
    ``except Exception`` in the tests can swallow it (and a bare ``except`` is caught by :attr:`Link.ended`)."""


class CandidateError(Exception):
    """The candidate raised, or could not send its result."""


class JudgeFailure(BaseException):
    """The tests pass the candidate something the format cannot carry (``theirs``: built from the candidate's own
    answers). A BaseException, so no test can turn it into an ordinary failure."""

    def __init__(self, why: str, theirs: bool):
        super().__init__(why)
        self.theirs = theirs


class Link:
    """The judge's end of the relay for one attempt."""

    def __init__(self, inp, out):
        self._inp, self._out = inp, out
        self.calls = self.replies = 0
        self.ended: tuple[str, str] | None = None  # (verdict, why) once the candidate is gone or sent a non-answer

    def call(self, name: str, args: tuple, kwargs: dict):
        if self.ended is not None:
            raise CandidateGone(self.ended[1])
        try:
            request = {"call": name, "args": [encode(a, fallback=_recipe) for a in args]}
            request["kwargs"] = [[k, encode(v, fallback=_recipe)] for k, v in kwargs.items()]
        except (TypeError, ValueError) as error:
            # A type the format does not have comes from the tests (no answer is rebuilt as one): ours. A value past
            # its depth or bounds, once the candidate has answered, is built from its answers: its failure.
            theirs = isinstance(error, ValueError) and self.replies > 0
            raise JudgeFailure(f"cannot send the inputs of {name}: {describe(error)}", theirs) from None
        self._out.write("C" + dumps(request) + "\n")
        self._out.flush()
        self.calls += 1
        line = self._inp.readline().rstrip(b"\n")
        if not line.startswith(b"R"):
            self.ended = ("lost", line[1:].decode("utf-8", errors="replace") or "the host closed the judge's input")
            raise CandidateGone(self.ended[1])
        self.replies += 1
        try:
            kind, value = read_answer(line[1:])
        except InvalidReply as error:
            self.ended = ("invalid", f"the answer to call {self.calls} is not valid: {error}")
            raise CandidateGone(self.ended[1]) from None
        if kind == "value":
            return value
        if kind == "raised":
            raise CandidateError(f"the solution raised {value}")
        raise CandidateError(f"no value came back: {value}")


class Remote:
    """A name the tests call that stands for the candidate's function of that name."""

    def __init__(self, name: str, link: Link):
        self._name, self._link = name, link

    def __call__(self, *args, **kwargs):
        return self._link.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<the candidate's {self._name}>"


class RemoteClass:
    """A class the candidate defines that the tests construct (MBPP 367, 601, 927): calling it records a recipe."""

    def __init__(self, name: str):
        self._name = name

    def __call__(self, *args, **kwargs):
        return Recipe(self._name, args, kwargs)


class Recipe:
    """An object the candidate's class will build on its side: constructor arguments and the attributes the tests
    set afterwards (``root.left = Node(2)``), sent with each call that passes it."""

    def __init__(self, cls: str, args: tuple, kwargs: dict):
        object.__setattr__(self, "_spec", (cls, args, kwargs, {}))

    def __setattr__(self, name: str, value) -> None:
        self._spec[3][name] = value

    def __getattr__(self, name: str):
        attrs = self._spec[3]
        if name not in attrs:
            raise AttributeError(name)
        return attrs[name]


def _recipe(value, depth: int):
    if not isinstance(value, Recipe):
        raise TypeError(f"the tests pass a {type(value).__name__}, which cannot be sent to the candidate")
    cls, args, kwargs, attrs = value._spec
    sub = [encode(a, depth + 1, _recipe) for a in args]
    named = [[k, encode(v, depth + 1, _recipe)] for k, v in kwargs.items()]
    return {"$": "new", "v": [cls, sub, named, [[k, encode(v, depth + 1, _recipe)] for k, v in attrs.items()]]}


def judge(task: dict, link: Link) -> dict:
    """Run one task's tests against the candidate behind ``link``; the verdict (see the module doc)."""
    namespace: dict = {"__name__": "__tests__"}
    try:
        exec(compile(task["prelude"], "prompt.py", "exec"), namespace)
        tests = compile(task["tests"], "tests.py", "exec")
        call = compile(task["call"], "call.py", "exec") if task["call"] else None
    except Exception as error:  # noqa: BLE001  (trusted code that does not load: our failure, reported as such)
        return {"verdict": "error", "detail": f"the tests do not load: {describe(error)}"}
    namespace.update({name: Remote(name, link) for name in task["remote"]})
    namespace.update({name: RemoteClass(name) for name in task["classes"]})
    try:
        exec(tests, namespace)
        if call is not None:
            exec(call, namespace)
    except CandidateGone:
        pass
    except JudgeFailure as failure:
        if failure.theirs:
            return {"verdict": "invalid", "detail": f"{failure} (a value built from the candidate's answers)"}
        return {"verdict": "error", "detail": str(failure)}
    except MemoryError:
        why = f"the tests ran out of memory{' on the answers' if link.replies else ''}"
        return {"verdict": "memory" if link.replies else "error", "detail": why}
    except Exception as error:  # noqa: BLE001  (any failure of a test is the attempt's failure)
        if link.ended is None:
            return {"verdict": "fail", "detail": _failure(error, task["tests"])}
    if link.ended is not None:  # also when a test swallowed the CandidateGone with a bare except
        return {"verdict": link.ended[0], "detail": link.ended[1]}
    return {"verdict": "pass", "detail": f"{link.calls} calls"}


def _failure(error: Exception, tests: str) -> str:
    """What failed, with the test line where it did."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "tests.py"]
    where = ""
    if frames and frames[-1].lineno:
        lines = tests.splitlines()
        line = lines[frames[-1].lineno - 1].strip() if frames[-1].lineno <= len(lines) else ""
        where = f" at tests line {frames[-1].lineno}: {line[:200]}"
    return describe(error) + where


def main() -> None:
    """Serve tasks on stdin until it closes."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the tests' prints must not reach the protocol
    inp = sys.stdin.buffer
    sys.setrecursionlimit(3000)
    while line := inp.readline():
        request = json.loads(line)
        limit_memory = _limit(request["cpu_s"], request["memory_bytes"])
        random.seed(request["seed"])
        link = Link(inp, out)
        try:
            verdict = judge(request["task"], link)
        except MemoryError:  # outside the tests' own frames (a rebuilt answer, a failure's message)
            verdict = {"verdict": "memory" if link.replies else "error", "detail": "the judge ran out of memory"}
        verdict["recycle"] = verdict["verdict"] not in ("pass", "fail") or _size() > limit_memory // 4
        out.write("V" + json.dumps(verdict) + "\n")
        out.flush()


def _limit(cpu_s: float, memory_bytes: int) -> int:
    """This attempt's limits: ``cpu_s`` more seconds of CPU time (the kernel kills the judge past them: SIGXCPU) and
    ``memory_bytes`` of address space (a MemoryError). The hard limits stay open: the next attempt sets its own."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    seconds = math.ceil(used.ru_utime + used.ru_stime + cpu_s)
    for limit, value in ((resource.RLIMIT_CPU, seconds), (resource.RLIMIT_AS, memory_bytes)):
        hard = resource.getrlimit(limit)[1]  # what the host allows: never raised, so never refused
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    return memory_bytes


def _size() -> int:
    """This process's address space now, in bytes."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


if __name__ == "__main__":
    main()
