"""The test harness: a program that runs candidate code against tests, with a verdict the candidate cannot forge.

The parent sends a fresh random nonce on stdin. The harness reads it before any candidate code runs, keeps a
private copy of the stdout descriptor, points fd 1 at stderr (so the candidate's prints cannot land on the verdict
channel by accident), runs the candidate, runs the tests in a namespace with a pristine copy of the builtins, and
only then writes ``<nonce> PASS`` and ``os._exit(0)``s (skipping any ``atexit`` hook the candidate registered). The
parent passes an attempt only when the sandbox status is ``ok`` and the last line of stdout is exactly that marker.

What each known hack meets:
- early ``sys.exit(0)`` / ``os._exit(0)``: no marker (``SystemExit`` is caught and reported as a failure);
- printing a fake success line: it does not know the nonce, and its prints go to stderr;
- an always-equal return object: every value the entry point returns must be made only of exact plain types
  (``int``, ``float``, ``str``, ``bool``, ``None``, ``list``, ``tuple``, ``dict``, ``set``, and the ``collections``
  containers ``Counter``, ``OrderedDict``, ``defaultdict``, ``deque``), else the call raises;
- monkeypatching the tests' helpers: the tests see a copy of the builtins taken before the candidate ran, and after
  the tests the harness checks that the builtins, the modules the tests import, the ``collections`` container
  classes and ``sys.settrace``/``setprofile`` are untouched, failing the attempt otherwise.

Open (documented, not defended): candidate code runs in the same interpreter as the harness, so code that
deliberately searches the harness's memory (stack frames, closures, ``gc``) can find the nonce and forge the marker.
Closing that needs the tests to run in a separate process from the candidate, exchanging only plain values.
"""

from __future__ import annotations

import ast
import secrets

PRELUDE = r"""
import builtins as _builtins, collections as _collections, os as _os, sys as _sys
_sys.setrecursionlimit(3000)
def _harness(candidate_source, tests_source, entry_point, call, test_imports):
    nonce = _sys.stdin.readline().strip()
    verdict_fd = _os.dup(1)
    _os.dup2(2, 1)
    write, exit_now, type_ = _os.write, _os._exit, type
    plain = (int, float, complex, str, bytes, bool, type(None))
    containers = (list, tuple, set, frozenset, _collections.deque)
    mappings = (dict, _collections.Counter, _collections.OrderedDict, _collections.defaultdict)
    classes_before = {cls: dict(vars(cls)) for cls in (_collections.Counter, _collections.OrderedDict,
                                                        _collections.defaultdict, _collections.deque)}
    def finish(ok, reason=""):
        line = nonce + (" PASS" if ok else " FAIL " + reason[:500].replace("\n", " "))
        write(verdict_fd, ("\n" + line + "\n").encode())
        exit_now(0)
    def check_plain(value, depth=0):
        kind = type_(value)
        if depth > 50:
            raise TypeError("returned value nested too deeply")
        if kind in plain:
            return
        if kind in containers:
            for item in value:
                check_plain(item, depth + 1)
            return
        if kind in mappings:
            for key, item in value.items():
                check_plain(key, depth + 1)
                check_plain(item, depth + 1)
            return
        raise TypeError("the function returned a " + kind.__name__ + ", not a plain value")
    modules = {}
    for name in test_imports:
        try:
            modules[name] = __import__(name)
        except ImportError:
            pass
    builtins_before = dict(vars(_builtins))
    modules_before = {name: dict(vars(m)) for name, m in modules.items()}
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(candidate_source, "candidate.py", "exec"), namespace)
    except BaseException as error:
        finish(False, "candidate code raised " + type_(error).__name__ + ": " + str(error))
    function = namespace.get(entry_point)
    if not callable(function):
        finish(False, "no function named " + entry_point)
    def guarded(*args, **kwargs):
        value = function(*args, **kwargs)
        check_plain(value)
        return value
    tests = {"__builtins__": dict(builtins_before), "__name__": "__tests__", entry_point: guarded,
             "candidate": guarded}
    for name, value in namespace.items():
        tests.setdefault(name, value)
    tests[entry_point] = tests["candidate"] = guarded
    try:
        exec(compile(tests_source, "tests.py", "exec"), tests)
        if call:
            exec(compile(call, "tests.py", "exec"), tests)
    except BaseException as error:
        finish(False, "tests failed: " + type_(error).__name__ + ": " + str(error))
    tampered = [k for k, v in builtins_before.items() if vars(_builtins).get(k) is not v]
    for name, before in modules_before.items():
        tampered += [name + "." + k for k, v in before.items() if vars(modules[name]).get(k) is not v]
    for cls, before in classes_before.items():
        tampered += [cls.__name__ + "." + k for k, v in before.items() if vars(cls).get(k) is not v]
    if _sys.gettrace() is not None or _sys.getprofile() is not None:
        tampered.append("sys.settrace/setprofile")
    if tampered:
        finish(False, "the candidate changed " + ", ".join(sorted(tampered)[:5]))
    finish(True)
"""


def new_nonce() -> str:
    return secrets.token_hex(16)


def build_program(candidate: str, tests: str, entry_point: str, call: str = "") -> str:
    """The harness program for one attempt. ``call`` runs after ``tests`` (HumanEval: ``check(candidate)``)."""
    imports = sorted(_imported_modules(tests) | {"math"})
    return PRELUDE + f"_harness({candidate!r}, {tests!r}, {entry_point!r}, {call!r}, {imports!r})\n"


def passed(stdout: str, nonce: str) -> tuple[bool, str]:
    """Read the verdict: ``(True, "")`` only for the exact marker on the last line of stdout."""
    lines = stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    if last == f"{nonce} PASS":
        return True, ""
    if last.startswith(f"{nonce} FAIL "):
        return False, last.removeprefix(f"{nonce} FAIL ")
    return False, "no verdict from the harness (the program exited before the tests finished)"


def _imported_modules(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names
