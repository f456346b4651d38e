"""The data-only wire format between the judge and a candidate, and the driver that serves the candidate's calls.

This file runs on both sides, so it imports the standard library only: the judge imports it, and in the sandbox it is
the first half of the driver's text (:mod:`envs.code.driver`). Nothing about the tests is in it: the driver learns
the inputs of each call when the call comes, and nothing else.

Candidate to judge, messages are JSON, one a line, written by :func:`to_json` (``_json``'s C string escaper and
a few lines here: importing ``json`` would bring ``re``, ~12 ms of every attempt). The judge and the host read them
with :mod:`envs.code.replies`, which bounds every line before parsing it. Judge to candidate, messages are Python
literals (:func:`dumps`, ``repr``) that the driver, which trusts the judge, reads with ``eval`` without builtins.
``None``, booleans, strings, 64-bit integers, finite floats
and lists stand for themselves; every other value is a dict ``{"$": tag, "v": ...}``: ``tuple``, ``set``,
``frozenset``, ``dict`` (a list of pairs: keys of any type), ``bytes``, ``bytearray``, ``int`` (big: hexadecimal),
``float`` (``nan``, ``inf``, ``-inf``), ``complex``, ``Fraction``, ``Decimal``, ``range``, ``Counter``,
``OrderedDict``, ``deque``, ``defaultdict`` (of a builtin factory), dict views, builtin types (``type``: ``int``,
``str``...), and ``iter`` (any iterator or generator, drained, up to ``MAX_ITEMS``). ``new`` (judge to candidate
only) builds an object of a class the candidate defines, for the MBPP tests that construct one (see
``envs/code/specs.py``). Decoding builds fresh objects of exactly these types, refuses anything else (unknown tags,
nesting deeper than ``MAX_DEPTH``, sets and dicts of more than ``MAX_HASHED`` entries) and never runs code: the
judge compares its own objects, never one the candidate built. Nothing it builds can be made expensive: every
numeric tag is checked before its value is built (integers and fractions of at most ``MAX_DIGITS`` digits, decimals
with an exponent within ``MAX_EXPONENT``, ranges of at most ``MAX_ITEMS`` items), so no later use of a value by the
trusted tests (``int()``, ``tuple()``, ``str()``) costs more than a value of an honest solution could.

Messages. Candidate side: ``{"driver":true}`` before any of the candidate's code runs (so a run without it is a
failure of the sandbox, not of the candidate), ``{"ready":true}`` or ``{"ready":false,"error":...}`` once the
code has loaded, then per request ``{"call": name, "args": [...], "kwargs": [[name, value], ...]}`` the answer
``{"value":...}``, ``{"raised":"TypeName: message"}`` or ``{"error":why the result cannot be sent}``.
"""

import _json
import collections
import itertools
import math
import sys

MAX_DEPTH = 100
MAX_ITEMS = 1_000_000  # elements drained from one iterator
# Entries of one set or dict rebuilt: keys crafted to share a hash make building one quadratic in its size.
MAX_HASHED = 10_000
MAX_DIGITS = 4300  # of an integer, a fraction's terms, a decimal's coefficient: Python's own limit for str <-> int
MAX_HEX_DIGITS = 3600  # a big int in hexadecimal: about MAX_DIGITS decimal digits
MAX_EXPONENT = 10_000  # of a decimal: int(Decimal("1E+999999999")) would build a billion digits
DRIVER_LINE, READY_LINE = b'{"driver":true}', b'{"ready":true}'
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
        return value if -(2**63) < value < 2**63 else {"$": "int", "v": _hex(value)}
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
            return {"$": name, "v": str(_bounded(value, name))}
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
    "range": lambda v, d, f: _range_terms(v),
    "deque": lambda v, d, f: [v.maxlen, _items(v, d, f)],
    "defaultdict": lambda v, d, f: [getattr(v.default_factory, "__name__", None), _pairs(v, d, f)],
    "type": lambda v, d, f: _type_name(v),
}  # fmt: skip


def _hex(value):
    if value.bit_length() > 4 * MAX_HEX_DIGITS:
        raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
    return hex(value)


def _bounded(value, name):
    """A fraction or decimal within the bounds :func:`decode` checks: what is past them cannot be compared."""
    if name == "Fraction":
        _hex(value.numerator), _hex(value.denominator)
    elif value.is_finite() and abs(value.as_tuple().exponent) > MAX_EXPONENT:
        raise ValueError(f"a decimal with an exponent past {MAX_EXPONENT}")
    return value


def _range_terms(value):
    terms = [value.start, value.stop, value.step]
    _range(terms)  # within the bounds decode checks
    return terms


def _type_name(cls):
    """A builtin type by name (MBPP 533 passes ``int``); no other class can travel."""
    if _FACTORIES.get(cls.__name__) is not cls:
        raise TypeError(f"cannot send the class {cls.__name__}")
    return cls.__name__


def decode(data, depth=0, construct=None):
    """Fresh objects from encoded ``data``; ``construct(name, args, kwargs, attrs)`` builds ``new`` objects (the
    candidate's side only: the judge passes none, so a reply cannot smuggle one in). Raises ValueError, TypeError or
    LookupError for anything that is not a value of the format or is past its bounds."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH}")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [decode(item, depth + 1, construct) for item in data]
    if kind is not dict or set(data) != {"$", "v"} or data["$"] not in _DECODERS:
        raise ValueError(f"not a value of the wire format: {str(data)[:80]}")
    tag, v = data["$"], data["v"]
    if tag == "new" and construct is None:
        raise ValueError("objects cannot be sent this way")
    if (type(v) is not str) if tag in _TEXT else (type(v) is not list):
        raise ValueError(f"not a value of the wire format: a {tag} of {type(v).__name__}")
    if tag in _HASHED and len(v if tag != "defaultdict" else _list(v[1])) > MAX_HASHED:
        raise ValueError(f"a {tag} of more than {MAX_HASHED} entries")
    return _DECODERS[tag](v, lambda item: decode(item, depth + 1, construct), construct)


_TEXT = {"bytes", "bytearray", "int", "float", "Fraction", "Decimal", "type"}


def _list(v):
    if type(v) is not list:
        raise ValueError(f"not a value of the wire format: a {type(v).__name__} where a list belongs")
    return v


def _lazy(module):
    return __import__(module)


def _decode_pairs(v, sub):
    return [(sub(key), sub(value)) for key, value in _list(v)]


def _decode_new(v, sub, construct):
    name, args, kwargs, attrs = v
    return construct(name, [sub(a) for a in args], dict(_decode_pairs(kwargs, sub)), _decode_pairs(attrs, sub))


def _big_int(text):
    if len(text) > MAX_HEX_DIGITS + 1:
        raise ValueError(f"an integer of more than {MAX_HEX_DIGITS} hexadecimal digits")
    return int(text, 16)


def _integer(text):
    """An integer written in at most ``MAX_DIGITS`` ASCII digits, with an optional sign."""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_DIGITS:
        raise ValueError(f"not an integer of at most {MAX_DIGITS} digits: {text[:20]!r}")
    return int(digits) * (-1 if digits is not text else 1)


def _fraction(text):
    numerator, slash, denominator = text.partition("/")
    return _lazy("fractions").Fraction(_integer(numerator), _integer(denominator) if slash else 1)


def _decimal(text):
    if len(text) > MAX_DIGITS + 32:
        raise ValueError(f"a decimal of more than {MAX_DIGITS} digits")
    value = _lazy("decimal").Decimal(text)  # parsing alone is linear in the text: nothing is expanded yet
    if value.is_finite() and abs(value.as_tuple().exponent) > MAX_EXPONENT:
        raise ValueError(f"a decimal with an exponent past {MAX_EXPONENT}: {text[:20]!r}")
    return value


def _range(v):
    if len(v) != 3 or any(type(x) is not int for x in v):
        raise ValueError("a range is three integers")
    made = range(*v)
    if len(made) > MAX_ITEMS:  # OverflowError past sys.maxsize
        raise ValueError(f"a range of more than {MAX_ITEMS} items")
    return made


def _complex(v, sub):
    real, imag = map(sub, v)
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise ValueError("a complex number is two numbers")
    return complex(float(real), float(imag))


def _deque(v, sub):
    maxlen, items = v
    if maxlen is not None and (type(maxlen) is not int or not 0 <= maxlen <= MAX_ITEMS):
        raise ValueError(f"a deque's maxlen is None or at most {MAX_ITEMS}")
    return collections.deque(map(sub, _list(items)), maxlen)


def _defaultdict(v, sub):
    factory, pairs = v
    if factory is not None and factory not in _FACTORIES:
        raise ValueError(f"a defaultdict's factory is a builtin type, not {str(factory)[:20]!r}")
    return collections.defaultdict(_FACTORIES.get(factory), _decode_pairs(pairs, sub))


_DECODERS = {
    "tuple": lambda v, sub, c: tuple(map(sub, v)), "set": lambda v, sub, c: set(map(sub, v)),
    "frozenset": lambda v, sub, c: frozenset(map(sub, v)), "dict": lambda v, sub, c: dict(_decode_pairs(v, sub)),
    "bytes": lambda v, sub, c: bytes.fromhex(v), "bytearray": lambda v, sub, c: bytearray.fromhex(v),
    "int": lambda v, sub, c: _big_int(v), "float": lambda v, sub, c: _special_float(v),
    "complex": lambda v, sub, c: _complex(v, sub),
    "Fraction": lambda v, sub, c: _fraction(v), "Decimal": lambda v, sub, c: _decimal(v),
    "range": lambda v, sub, c: _range(v),
    "Counter": lambda v, sub, c: collections.Counter(dict(_decode_pairs(v, sub))),
    "OrderedDict": lambda v, sub, c: collections.OrderedDict(_decode_pairs(v, sub)),
    "deque": lambda v, sub, c: _deque(v, sub), "defaultdict": lambda v, sub, c: _defaultdict(v, sub),
    "keys": lambda v, sub, c: dict.fromkeys(map(sub, v)).keys(),
    "values": lambda v, sub, c: dict(enumerate(map(sub, v))).values(),
    "items": lambda v, sub, c: dict(_decode_pairs(v, sub)).items(), "iter": lambda v, sub, c: iter(list(map(sub, v))),
    "new": lambda v, sub, c: _decode_new(v, sub, c), "type": lambda v, sub, c: _FACTORIES[v],
}  # fmt: skip


def _special_float(text):
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"not a special float: {text[:20]!r}")
    return float(text)


def to_json(data):
    """Encoded ``data`` (or a message of it) as one line of JSON: what the driver sends. Strings are escaped to
    ASCII (a lone surrogate travels as ``\\udXXX``), so the line is valid UTF-8 whatever the candidate's text."""
    kind = type(data)
    if kind is str:
        return _json.encode_basestring_ascii(data)
    if kind is int:
        return int.__repr__(data)
    if kind is list:
        return "[" + ",".join(map(to_json, data)) + "]"
    if kind is dict:
        return "{" + ",".join(f"{_json.encode_basestring_ascii(k)}:{to_json(v)}" for k, v in data.items()) + "}"
    if kind is float:
        return float.__repr__(data)  # finite: encode tags the others
    return _CONSTANTS[data]


_CONSTANTS = {None: "null", True: "true", False: "false"}


def dumps(message):
    """One message of the judge's as a line of text (without the newline): a Python literal (see the module doc)."""
    return repr(message)


def describe(error):
    """``TypeName: message`` of an exception, whatever its ``__str__`` does."""
    try:
        text = str(error)
    except Exception:  # noqa: BLE001  (a candidate's exception may break its own __str__)
        text = "<unprintable>"
    return f"{type(error).__name__}: {text}"[:1000]
