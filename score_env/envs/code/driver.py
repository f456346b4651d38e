"""The driver: the program that serves the candidate's code to the judge, inside the sandbox.

It loads the candidate's code, then answers each call the judge sends (relayed by the host) with the call's value
in the format of :mod:`envs.code.wire`. In the sandbox its text is wire.py's followed by this file's, as one module
(:func:`driver_module`, preloaded by the sandbox's fork server) or one program (:func:`driver_program`): standard
library only, and nothing about the tests.
"""

import os
import sys

from score_env.envs.code import wire  # in the sandbox, wire.py's text comes first instead: lines "from score_env..."
from score_env.envs.code.wire import decode, describe, encode, to_json  # are left out of the driver's text there


def serve(source):
    """The driver: load the candidate's code, then answer calls until stdin closes. Runs inside the sandbox.

    The protocol uses private copies of stdin and stdout; the program's own fd 0 reads ``/dev/null`` and its
    fd 1 writes to stderr, so ``print`` and ``input`` cannot disturb the channel by accident (on purpose they only
    spoil the candidate's own answers).
    """
    requests, channel = os.fdopen(os.dup(0), "rb"), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.setrecursionlimit(3000)
    _send(channel, {"driver": True})  # before any of the candidate's code: the sandbox did run the driver
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(source, "solution.py", "exec"), namespace)
    except BaseException as error:  # noqa: BLE001  (the candidate's code: whatever it raises, SystemExit included)
        _send(channel, {"ready": False, "error": describe(error)})
        return
    _send(channel, {"ready": True})
    for line in requests:
        _send(channel, _answer(namespace, line))
    for stream in (sys.stdout, sys.stderr):  # what the candidate printed, for the grade's detail
        try:  # noqa: SIM105  (contextlib would be one more import in every attempt)
            stream.flush()
        except Exception:  # noqa: BLE001  (the candidate may have replaced or broken them)
            pass
    os._exit(0)  # no interpreter teardown, no atexit hook of the candidate's: the attempt is over


def _answer(namespace, line):
    def construct(name, args, kwargs, attrs):
        made = namespace[name](*args, **kwargs)
        for attr, value in attrs:
            setattr(made, attr, value)
        return made

    try:
        request = eval(line, {"__builtins__": {}}, {})  # the judge's message, relayed by the host: trusted
        function = namespace.get(request["call"])
        if not callable(function):
            return {"raised": f"NameError: name {request['call']!r} is not defined by the solution"}
        args = [decode(a, construct=construct) for a in request["args"]]
        kwargs = {key: decode(value, construct=construct) for key, value in request["kwargs"]}
        value = function(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001  (the candidate's code: whatever it raises)
        return {"raised": describe(error)}
    try:
        return {"value": encode(value)}
    except BaseException as error:  # noqa: BLE001  (encoding runs candidate code too: iterators, subclasses)
        return {"error": f"cannot send the result: {describe(error)}"}


def _send(channel, message):
    data = (to_json(message) + "\n").encode()
    while data:
        data = data[os.write(channel, data) :]


DRIVER_MODULE = "_score_driver"  # wire.py + this file, preloaded where the sandbox has a fork server


def driver_module():
    """``{name: source}`` of the driver as a module a sandbox may preload (``make_sandbox(modules=...)``)."""
    return {DRIVER_MODULE: _own_source()}


def driver_program(source):
    """The whole program of one attempt in the sandbox: ``serve`` of the candidate's code, with the driver imported
    from the module the sandbox preloaded or, where it did not (docker, a sandbox made without it), its
    text run in place (compiled there: ~2 ms of every attempt that the preloaded module saves)."""
    return (
        f"try:\n    from {DRIVER_MODULE} import serve\n"
        f"except ImportError:\n    exec(compile({_own_source()!r}, 'driver.py', 'exec'))\n"
        f"serve({source!r})\n"
    )


_SOURCE = []


def _own_source():
    """wire.py's text, then this file's without its import of wire (in the sandbox, the two are one module)."""
    if not _SOURCE:
        with open(wire.__file__, encoding="utf-8") as f:
            text = f.read()
        with open(__file__, encoding="utf-8") as f:
            own = "".join(line for line in f if not line.startswith("from score_env."))
        _SOURCE.append(f"{text}\n\n{own}")
    return _SOURCE[0]
