"""The wire format: what an honest solution returns comes back equal and of the same type; nothing else is built."""

from __future__ import annotations

import collections
import decimal
import fractions
import json
import math
import shutil

import pytest

from score_env.envs.code.driver import DRIVER_MODULE, driver_program
from score_env.envs.code.replies import InvalidReply, read_answer
from score_env.envs.code.tasks import close_sandbox, open_sandbox
from score_env.envs.code.wire import MAX_DEPTH, MAX_HASHED, decode, dumps, encode, to_json
from score_env.sandboxes import make_sandbox


def sent(value):
    """``value`` as the driver sends it and the judge rebuilds it."""
    kind, back = read_answer(to_json({"value": encode(value)}).encode())
    assert kind == "value"
    return back


def loads(text: str):
    return json.loads(text)


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
    back = sent(value)
    assert type(back) is type(value) and back == value
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_comes_back_as_nan():
    assert math.isnan(sent(float("nan")))


def test_defaultdict_keeps_a_builtin_factory():
    back = sent(collections.defaultdict(list, {1: [2]}))
    assert back == {1: [2]} and back.default_factory is list


def test_iterators_and_generators_are_drained_into_an_iterator():
    back = sent(x * x for x in range(4))
    assert list(back) == [0, 1, 4, 9]
    assert list(sent(map(str, [1, 2]))) == ["1", "2"]


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


def answer(value_text: str):
    """The judge's reading of a reply whose value is ``value_text`` (raw JSON, as a candidate may write it)."""
    return read_answer(('{"value": ' + value_text + "}").encode())


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"$": "eval", "v": "1"}', "unknown tag"),
        ('{"$": "tuple", "v": [1], "x": 2}', "extra keys"),
        ('{"a": 1}', "a bare dict"),
        ("(1, 2)", "a Python tuple: not JSON"),
        ("1j", "a Python complex: not JSON"),
        ("NaN", "JSON's non-standard constants"),
        ('{"$": "float", "v": "1e400"}', "only nan/inf/-inf are tagged floats"),
        ('{"$": "new", "v": ["Node", [], [], []]}', "no objects from the candidate"),
        ('{"$": "type", "v": "object"}', "only the builtin data types"),
        ('{"$": "set", "v": "abc"}', "a container of text"),
        ('{"$": "int", "v": [1]}', "a number of a list"),
        ('{"$": "defaultdict", "v": ["eval", []]}', "a factory that is not a builtin type"),
        ('{"$": "deque", "v": [-1, []]}', "a negative maxlen"),
        ('{"$": "complex", "v": ["1", 2]}', "a complex of text"),
        ('{"$": "range", "v": [0, 10, 0]}', "a step of 0"),
    ],
)
def test_decoding_refuses_what_is_not_a_value(line, why):
    with pytest.raises(InvalidReply):
        answer(line)


# What a reply could make expensive, each refused before the value is built (issue #24: each once cost the judge
# seconds to minutes of CPU or gigabytes of memory, or escaped as an exception the judge did not expect).
EXPENSIVE = {
    "a fraction with a billion-digit power of ten": '{"$": "Fraction", "v": "1e1000000000"}',
    "a fraction of 5000 digits": '{"$": "Fraction", "v": "' + "7" * 5000 + '/3"}',
    "a decimal whose int() has a billion digits": '{"$": "Decimal", "v": "1E+999999999"}',
    "a decimal of 5000 digits": '{"$": "Decimal", "v": "' + "7" * 5000 + '"}',
    "a range of 10**12 items": '{"$": "range", "v": [0, 1000000000000, 1]}',
    "a range past sys.maxsize": '{"$": "range", "v": [0, ' + "9" * 30 + ", 1]}",
    "a hexadecimal int of 100,000 digits": '{"$": "int", "v": "' + "f" * 100_000 + '"}',
    "an int of 5000 digits": "9" * 5000,
    "a complex that overflows a float": '{"$": "complex", "v": [' + "9" * 400 + ", 0]}",
    "JSON nested a million deep": "[" * 1_000_000 + "]" * 1_000_000,
    "a deque of maxlen 10**12": '{"$": "deque", "v": [1000000000000, []]}',
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
def test_a_value_past_the_formats_bounds_is_refused_before_it_is_built(name):
    with pytest.raises(InvalidReply):
        answer(EXPENSIVE[name])


@pytest.mark.parametrize(
    "line",
    [
        b'{"value": 1, "junk": [0, 0, 0]}',  # a key the protocol does not have
        b'{"value": 1, "raised": "x"}',  # two answers at once
        b'{"raised": 3}',  # a message's text that is not text
        b"[1]",  # not a message
        b'{"value": "\xff"}',  # not UTF-8
        b"x" * (2 << 20),  # longer than any reply the sandbox lets through
        b"{'value': 1}",  # the old format: Python literals are not read any more
    ],
)
def test_a_reply_that_is_not_an_answer_is_refused(line):
    with pytest.raises(InvalidReply):
        read_answer(line)


def test_text_travels_as_valid_utf8_whatever_it_holds():
    line = to_json({"raised": "\ud800 \x00 \U0001f600"})
    assert line.isascii() and read_answer(line.encode()) == ("raised", "\ud800 \x00 \U0001f600")


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
    preloaded, bare = open_sandbox("bwrap"), make_sandbox("bwrap")
    try:
        for sandbox in (preloaded, bare):
            assert sandbox.run(program, stdin=request).stdout.splitlines()[-1] == '{"value":42}'
        assert preloaded.run(f"import {DRIVER_MODULE}").ok and not bare.run(f"import {DRIVER_MODULE}").ok
    finally:
        close_sandbox(preloaded)
        bare.close()
