"""The wire format: what an honest solution returns comes back equal and of the same type; nothing else is built."""

from __future__ import annotations

import collections
import decimal
import fractions
import math
import shutil

import pytest

from score_env.envs.code.tasks import shared_sandbox
from score_env.envs.code.wire import DRIVER_MODULE, MAX_DEPTH, MAX_HASHED, decode, driver_program, dumps, encode, loads
from score_env.sandboxes import make_sandbox

# Values an honest solution (or a test's input) may hold, one comment per row.
ROUND_TRIPS = [
    None,  # JSON null
    True,  # not confused with 1
    -(2**63) + 1,  # the largest plain JSON int
    2**200,  # a big int travels in hexadecimal
    -(3**300),  # ... negative too
    0.1,  # floats round-trip exactly (repr)
    -0.0,  # the sign of zero
    float("inf"),  # tagged: JSON has no infinity
    "naïve \n\t\x00 \ud800",  # any str, lone surrogates included
    [1, [2, [3]]],  # lists
    (1, (2.5, "x")),  # tuples stay tuples
    {1, 2, 3},  # sets
    frozenset({"a"}),  # frozensets
    {(1, 2): [3], None: {"k": 1}},  # dict keys of any hashable type
    b"\x00\xff",  # bytes
    bytearray(b"ab"),  # bytearray
    3 + 4j,  # complex
    fractions.Fraction(1, 3),  # Fraction
    decimal.Decimal("1.10"),  # Decimal keeps its digits
    range(1, 10, 2),  # range
    collections.Counter("hello"),  # Counter
    collections.OrderedDict([("b", 1), ("a", 2)]),  # OrderedDict keeps its order
    collections.deque([1, 2], maxlen=3),  # deque with maxlen
    int,  # a builtin type (MBPP 533 passes one)
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=repr)
def test_honest_values_round_trip_with_their_type(value):
    back = decode(loads(dumps(encode(value))))
    assert type(back) is type(value) and back == value
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_comes_back_as_nan():
    assert math.isnan(decode(loads(dumps(encode(float("nan"))))))


def test_defaultdict_keeps_a_builtin_factory():
    back = decode(loads(dumps(encode(collections.defaultdict(list, {1: [2]})))))
    assert back == {1: [2]} and back.default_factory is list


def test_iterators_and_generators_are_drained_into_an_iterator():
    back = decode(loads(dumps(encode(x * x for x in range(4)))))
    assert list(back) == [0, 1, 4, 9]
    assert list(decode(loads(dumps(encode(map(str, [1, 2])))))) == ["1", "2"]


def test_dict_views_come_back_as_views():
    d = {1: "a", 2: "b"}
    assert decode(encode(d.keys())) == d.keys() and decode(encode(d.items())) == d.items()
    assert list(decode(encode(d.values()))) == ["a", "b"]


def test_subclasses_travel_as_their_plain_base():
    class Loud(int):
        def __eq__(self, other):
            return True

    assert type(decode(encode(Loud(3)))) is int and decode(encode(Loud(3))) != 4


@pytest.mark.parametrize(
    "value",
    [
        object(),  # an arbitrary object
        type("Meta", (type,), {"__eq__": lambda a, b: True})("Yes", (), {}),  # a class with an always-true metaclass
        lambda: 1,  # a function
        type("Point", (), {}),  # a user class
    ],
)
def test_anything_else_cannot_be_sent(value):
    with pytest.raises(TypeError):
        encode(value)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"$": "eval", "v": "1"}', "unknown tag"),
        ('{"$": "tuple", "v": [1], "x": 2}', "extra keys"),
        ('{"a": 1}', "a bare dict"),
        ("(1, 2)", "a literal tuple: tuples are tagged"),
        ("{1, 2}", "a literal set"),
        ("b'x'", "literal bytes"),
        ("1j", "a literal complex"),
        ('{"$": "float", "v": "1e400"}', "only nan/inf/-inf are tagged floats"),
        ('{"$": "new", "v": ["Node", [], [], []]}', "no objects from the candidate"),
        ('{"$": "type", "v": "object"}', "only the builtin data types"),
    ],
)
def test_decoding_refuses_what_is_not_a_value(line, why):
    with pytest.raises((ValueError, KeyError)):
        decode(loads(line))


@pytest.mark.parametrize(
    "line",
    [
        "__import__('os').system('true')",  # a call
        "[x for x in ()]",  # a comprehension
        "1" * 5000,  # an int past the interpreter's digit limit
        "[" * 1000 + "]" * 1000,  # nested past the parser's limit
    ],
)
def test_parsing_an_answer_never_runs_code_or_builds_monsters(line):
    with pytest.raises((ValueError, SyntaxError, MemoryError, RecursionError)):
        loads(line)


def test_deep_nesting_is_refused():
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(ValueError, match="nested deeper"):
        decode(loads(deep))
    with pytest.raises(ValueError):
        encode(_nest(MAX_DEPTH + 5))


def test_sets_and_dicts_are_capped_in_size():
    # keys crafted to share one hash (x and x + 2**61 - 1 do) would make rebuilding them quadratic
    with pytest.raises(ValueError, match="more than"):
        decode(encode({i * (2**61 - 1) for i in range(MAX_HASHED + 1)}))
    assert len(decode(encode(set(range(MAX_HASHED))))) == MAX_HASHED


def test_objects_are_built_only_where_a_constructor_is_given():
    built = []
    data = {"$": "new", "v": ["Pair", [1, 2], [], [["tag", "x"]]]}
    decode(data, construct=lambda *args: built.append(args))
    assert built == [("Pair", [1, 2], {}, [("tag", "x")])]


def _nest(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_the_code_tasks_sandbox_preloads_the_driver_and_any_other_sandbox_gets_its_text():
    request = dumps({"call": "f", "args": [encode(2)], "kwargs": []}) + "\n"
    program = driver_program("def f(x):\n    return x * 21\n")
    preloaded, bare = shared_sandbox("bwrap"), make_sandbox("bwrap")
    try:
        for sandbox in (preloaded, bare):
            assert sandbox.run(program, stdin=request).stdout.splitlines()[-1] == "{'value': 42}"
        assert preloaded.run(f"import {DRIVER_MODULE}").ok and not bare.run(f"import {DRIVER_MODULE}").ok
    finally:
        bare.close()
