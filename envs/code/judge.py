"""The judge: runs a task's trusted tests against a candidate it reaches only through calls. Never runs its code.

A judge is a long-lived worker process (:mod:`envs.code.judges` starts it with ``-I -S``: the standard library and
these modules only) that grades one attempt after another. For each, the host sends the task (:class:`~envs.code.
specs.TestSpec`): the prelude (the HumanEval prompt with its helpers, or the imports an MBPP test relies on: from the
dataset, never from the candidate), the tests, and the names that stand for the candidate. The judge runs the
prelude, binds each of those names to a :class:`Remote` stub, and runs the tests (HumanEval: ``check(entry)``). A
stub sends the call's inputs to the host, which relays them to the candidate's driver in the sandbox and relays its
answer back; the stub rebuilds the answer as the judge's own objects (:func:`wire.decode`) and returns it, so every
comparison the tests make is between objects the judge built. The judge alone decides the verdict.

Protocol (stdin/stdout, one line each; the tests' own prints go to stderr):
- host to judge: ``{"task": ...}``; then, for each call, ``R<the candidate's reply line>`` or ``L<why>`` when the
  candidate is gone (a limit, a crash: the host knows, the candidate cannot send an ``L``).
- judge to host: ``C<call message>`` (forwarded verbatim to the candidate), then ``V{"verdict": ..., "detail": ...}``
  with the verdict ``pass``, ``fail`` (a test failed, the candidate raised, or its answer was not valid data),
  ``lost`` (the candidate stopped answering) or ``error`` (the tests do not load, or pass the candidate something
  the format cannot carry: our failure, never counted as a wrong answer).
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from score_env.envs.code.wire import decode as decode_value
from score_env.envs.code.wire import describe, dumps, encode, loads


class CandidateLost(BaseException):
    """The candidate stopped answering. A BaseException, so no ``except Exception`` in the tests can swallow it."""


class CandidateError(Exception):
    """The candidate raised, or answered with something that is not a value of the wire format."""


class JudgeFailure(BaseException):
    """The judge cannot do its part (the tests pass something the format cannot carry): ours, not the candidate's.
    A BaseException, so no test can turn it into an ordinary failure."""


class Link:
    """The judge's end of the relay for one attempt."""

    def __init__(self, inp, out):
        self._inp, self._out = inp, out
        self.calls = 0
        self.lost: str | None = None

    def call(self, name: str, args: tuple, kwargs: dict):
        if self.lost is not None:
            raise CandidateLost(self.lost)
        try:
            request = {"call": name, "args": [encode(a, fallback=_recipe) for a in args]}
            request["kwargs"] = [[k, encode(v, fallback=_recipe)] for k, v in kwargs.items()]
        except (TypeError, ValueError) as error:
            raise JudgeFailure(f"cannot send the inputs of {name}: {describe(error)}") from None
        self._out.write("C" + dumps(request) + "\n")
        self._out.flush()
        self.calls += 1
        line = self._inp.readline().decode("utf-8", errors="replace").rstrip("\n")
        if not line.startswith("R"):
            self.lost = line[1:] or "the host closed the judge's input"
            raise CandidateLost(self.lost)
        return _answer(line[1:])


def _answer(reply: str):
    """The candidate's reply rebuilt as the judge's own object, or the exception the call raises."""
    try:
        message = loads(reply)
        if not isinstance(message, dict):
            raise ValueError("not a message")
        if "value" in message:
            return decode_value(message["value"])
    except (ValueError, TypeError, SyntaxError, MemoryError, LookupError, RecursionError, ArithmeticError) as error:
        raise CandidateError(f"the answer is not valid data ({describe(error)})") from None
    if isinstance(message.get("raised"), str):
        raise CandidateError(f"the solution raised {message['raised']}")
    raise CandidateError(f"no value came back: {str(message.get('error', message))[:300]}")


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
    """Run one task's tests against the candidate behind ``link``; the verdict."""
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
    except CandidateLost:
        pass
    except JudgeFailure as failure:
        return {"verdict": "error", "detail": str(failure)}
    except Exception as error:  # noqa: BLE001  (any failure of a test is the attempt's failure)
        if link.lost is None:
            return {"verdict": "fail", "detail": _failure(error, task["tests"])}
    if link.lost is not None:  # also when a test swallowed the CandidateLost with a bare except
        return {"verdict": "lost", "detail": link.lost}
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
        link = Link(inp, out)
        verdict = judge(json.loads(line)["task"], link)
        out.write("V" + json.dumps(verdict) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
