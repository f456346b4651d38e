"""The data-only wire format between the judge and a candidate, and the driver that serves the candidate's calls.

This file runs on both sides, so it imports the standard library only: the judge imports it, and the sandbox runs
``serve(<the candidate's code>)`` of it, preloaded by the sandbox's fork server or sent with the program
(:func:`driver_program`). Nothing about the tests is in it: the driver learns the inputs of each call when the call
comes, and nothing else.

Messages are Python literals (``repr``), one a line: the judge reads them with :func:`loads` (``ast.literal_eval``:
literals only, never code); the driver, which trusts the judge, with ``eval`` without builtins (no ``json``,
``ast`` or ``re`` to import: ~15 ms of every attempt). ``None``, booleans, strings, 64-bit integers, finite floats
and lists stand for themselves; every other value is a dict ``{"$": tag, "v": ...}``: ``tuple``, ``set``,
``frozenset``, ``dict`` (a list of pairs: keys of any type), ``bytes``, ``bytearray``, ``int`` (big: hexadecimal),
``float`` (``nan``, ``inf``, ``-inf``), ``complex``, ``Fraction``, ``Decimal``, ``range``, ``Counter``,
``OrderedDict``, ``deque``, ``defaultdict`` (of a builtin factory), dict views, builtin types (``type``: ``int``,
``str``...), and ``iter`` (any iterator or generator, drained, up to ``MAX_ITEMS``). ``new`` (judge to candidate
only) builds an object of a class the candidate defines, for the MBPP tests that construct one (see
``envs/code/specs.py``). Decoding builds fresh objects of exactly these types, refuses anything else (unknown tags,
literal tuples, sets or bytes, nesting deeper than ``MAX_DEPTH``, sets and dicts of more than ``MAX_HASHED``
entries) and never runs code: the judge compares its own objects, never one the candidate built.

Messages. Candidate side: ``{"driver": True}`` before any of the candidate's code runs (so a run without it is a
failure of the sandbox, not of the candidate), ``{"ready": True}`` or ``{"ready": False, "error": ...}`` once the
code has loaded, then per request ``{"call": name, "args": [...], "kwargs": [[name, value], ...]}`` the answer
``{"value": ...}``, ``{"raised": "TypeName: message"}`` or ``{"error": why the result cannot be sent}``.
"""

import collections
import itertools
import math
import os
import sys

MAX_DEPTH = 100
MAX_ITEMS = 1_000_000  # elements drained from one iterator
# Entries of one set or dict rebuilt: keys crafted to share a hash make building one quadratic in its size.
MAX_HASHED = 10_000
_HASHED = {"set", "frozenset", "dict", "Counter", "OrderedDict", "defaultdict", "keys", "items"}
_FACTORIES = {f.__name__: f for f in (list, dict, set, int, float, str, tuple, frozenset, bool, bytes, complex)}
_VIEWS = {type({}.keys()): "keys", type({}.values()): "values", type({}.items()): "items"}


def encode(value, depth=0, fallback=None):
    """``value`` as JSON-ready data (see the module doc); ``fallback(value, depth)`` for other types, else TypeError."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(2**63) < value < 2**63 else {"$": "int", "v": hex(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if kind is list:
        return [encode(item, depth + 1, fallback) for item in value]
    tag = _TAGS.get(kind) or _VIEWS.get(kind)
    if tag is not None:
        return {"$": tag, "v": _ENCODERS.get(tag, _items)(value, depth + 1, fallback)}
    if fallback is not None:
        return fallback(value, depth)
    return _encode_other(value, depth, fallback)


def _items(value, depth, fallback):
    return [encode(item, depth, fallback) for item in value]


def _pairs(value, depth, fallback):
    return [[encode(k, depth, fallback), encode(v, depth, fallback)] for k, v in value.items()]


def _encode_other(value, depth, fallback):
    """Fractions, decimals, subclasses of the plain types, and iterators: what an honest solution may return."""
    for module, name in (("fractions", "Fraction"), ("decimal", "Decimal")):
        loaded = sys.modules.get(module)  # imported lazily (~10 ms a run): a value of it means it is loaded
        if loaded is not None and type(value) is getattr(loaded, name):
            return {"$": name, "v": str(value)}
    for base in (bool, int, float, str, bytes, list, tuple, dict, set, frozenset):
        if isinstance(value, base):
            return encode(base(value), depth + 1, fallback)
    if hasattr(value, "__next__"):
        items = list(itertools.islice(value, MAX_ITEMS + 1))
        if len(items) > MAX_ITEMS:
            raise ValueError(f"an iterator of more than {MAX_ITEMS} items")
        return {"$": "iter", "v": _items(items, depth + 1, fallback)}
    raise TypeError(f"cannot send a {type(value).__name__}: only plain data can be compared")


_TAGS = {
    tuple: "tuple", set: "set", frozenset: "frozenset", dict: "dict", bytes: "bytes", bytearray: "bytearray",
    complex: "complex", range: "range",
    collections.Counter: "Counter", collections.OrderedDict: "OrderedDict", collections.deque: "deque",
    collections.defaultdict: "defaultdict", type: "type",
}  # fmt: skip
_ENCODERS = {
    "dict": _pairs, "Counter": _pairs, "OrderedDict": _pairs,
    "items": lambda v, d, f: [[encode(k, d, f), encode(x, d, f)] for k, x in v],
    "bytes": lambda v, d, f: v.hex(), "bytearray": lambda v, d, f: v.hex(),
    "complex": lambda v, d, f: [encode(v.real, d), encode(v.imag, d)],
    "range": lambda v, d, f: [v.start, v.stop, v.step],
    "deque": lambda v, d, f: [v.maxlen, _items(v, d, f)],
    "defaultdict": lambda v, d, f: [getattr(v.default_factory, "__name__", None), _pairs(v, d, f)],
    "type": lambda v, d, f: _type_name(v),
}  # fmt: skip


def _type_name(cls):
    """A builtin type by name (MBPP 533 passes ``int``); no other class can travel."""
    if _FACTORIES.get(cls.__name__) is not cls:
        raise TypeError(f"cannot send the class {cls.__name__}")
    return cls.__name__


def decode(data, depth=0, construct=None):
    """Fresh objects from encoded ``data``; ``construct(name, args, kwargs, attrs)`` builds ``new`` objects (the
    candidate's side only: the judge passes none, so a reply cannot smuggle one in)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH}")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [decode(item, depth + 1, construct) for item in data]
    if kind is not dict or set(data) != {"$", "v"} or data["$"] not in _DECODERS:
        raise ValueError(f"not a value of the wire format: {str(data)[:80]}")
    tag = data["$"]
    if tag == "new" and construct is None:
        raise ValueError("objects cannot be sent this way")
    if tag in _HASHED and len(data["v"] if tag != "defaultdict" else data["v"][1]) > MAX_HASHED:
        raise ValueError(f"a {tag} of more than {MAX_HASHED} entries")
    return _DECODERS[data["$"]](data["v"], lambda item: decode(item, depth + 1, construct), construct)


def _lazy(module):
    return __import__(module)


def _decode_pairs(v, sub):
    return [(sub(key), sub(value)) for key, value in v]


def _decode_new(v, sub, construct):
    name, args, kwargs, attrs = v
    return construct(name, [sub(a) for a in args], dict(_decode_pairs(kwargs, sub)), _decode_pairs(attrs, sub))


_DECODERS = {
    "tuple": lambda v, sub, c: tuple(map(sub, v)), "set": lambda v, sub, c: set(map(sub, v)),
    "frozenset": lambda v, sub, c: frozenset(map(sub, v)), "dict": lambda v, sub, c: dict(_decode_pairs(v, sub)),
    "bytes": lambda v, sub, c: bytes.fromhex(v), "bytearray": lambda v, sub, c: bytearray.fromhex(v),
    "int": lambda v, sub, c: int(v, 16), "float": lambda v, sub, c: _special_float(v),
    "complex": lambda v, sub, c: complex(sub(v[0]), sub(v[1])),
    "Fraction": lambda v, sub, c: _lazy("fractions").Fraction(v),
    "Decimal": lambda v, sub, c: _lazy("decimal").Decimal(v), "range": lambda v, sub, c: range(*(int(x) for x in v)),
    "Counter": lambda v, sub, c: collections.Counter(dict(_decode_pairs(v, sub))),
    "OrderedDict": lambda v, sub, c: collections.OrderedDict(_decode_pairs(v, sub)),
    "deque": lambda v, sub, c: collections.deque(map(sub, v[1]), v[0]),
    "defaultdict": lambda v, sub, c: collections.defaultdict(_FACTORIES.get(v[0]), _decode_pairs(v[1], sub)),
    "keys": lambda v, sub, c: dict.fromkeys(map(sub, v)).keys(),
    "values": lambda v, sub, c: dict(enumerate(map(sub, v))).values(),
    "items": lambda v, sub, c: dict(_decode_pairs(v, sub)).items(), "iter": lambda v, sub, c: iter(list(map(sub, v))),
    "new": lambda v, sub, c: _decode_new(v, sub, c), "type": lambda v, sub, c: _FACTORIES[v],
}  # fmt: skip


def _special_float(text):
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"not a special float: {text[:20]!r}")
    return float(text)


def dumps(message):
    """One message as a line of text (without the newline)."""
    return repr(message)


def loads(line):
    """Parse one message: Python literals only (``ast.literal_eval`` never runs code)."""
    import ast  # here, not at the top: the driver never parses untrusted text and skips the import

    return ast.literal_eval(line)


def describe(error):
    """``TypeName: message`` of an exception, whatever its ``__str__`` does."""
    try:
        text = str(error)
    except Exception:  # noqa: BLE001  (a candidate's exception may break its own __str__)
        text = "<unprintable>"
    return f"{type(error).__name__}: {text}"[:1000]


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
    data = (dumps(message) + "\n").encode()
    while data:
        data = data[os.write(channel, data) :]


DRIVER_MODULE = "_score_driver"  # this file, preloaded where the sandbox has a fork server (sandboxes.forkserver)


def driver_module():
    """``{name: source}`` of this file as a module a sandbox may preload (``make_sandbox(modules=...)``)."""
    return {DRIVER_MODULE: _own_source()}


def driver_program(source):
    """The whole program of one attempt in the sandbox: ``serve`` of the candidate's code, with the driver imported
    from the module the sandbox preloaded or, where it did not (docker, a sandbox made without it), this file's
    text run in place (compiled there: ~2 ms of every attempt that the preloaded module saves)."""
    return (
        f"try:\n    from {DRIVER_MODULE} import serve\n"
        f"except ImportError:\n    exec(compile({_own_source()!r}, 'wire.py', 'exec'))\n"
        f"serve({source!r})\n"
    )


_OWN_SOURCE = []


def _own_source():
    if not _OWN_SOURCE:
        with open(__file__, encoding="utf-8") as f:
            _OWN_SOURCE.append(f.read())
    return _OWN_SOURCE[0]
