"""``score_env.text``: every hostile family round-trips exactly through ``dump_json`` and shows as visible escapes."""

from __future__ import annotations

import json
import re

import pytest

from score_env.text import dump_json, escape_surrogates, escape_text
from tests.hostile import HOSTILE, MEGABYTE

# What must never reach a console, a file for people or a page as it is (the spec, written out independently).
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_dump_json_is_utf8_and_reads_back_exactly(text):
    value = {"text": text, text[:40]: [text, {"nested": text}], "n": 1.5}
    written = dump_json(value, indent=2)
    assert json.loads(written.encode("utf-8").decode("utf-8")) == value  # strict UTF-8 both ways, then exact


def test_dump_json_keeps_non_ascii_readable_and_escapes_only_lone_surrogates():
    assert dump_json(["é中🙂", "a\ud800b", "\x00"]) == '["é中🙂", "a\\ud800b", "\\u0000"]'
    assert dump_json({"a": [1, 2]}, compact=True) == '{"a":[1,2]}'
    assert dump_json(float("nan")) == "NaN"  # as json.dumps: the training logs' values are unchanged


def test_a_surrogate_pair_made_of_two_lone_surrogates_reads_back_as_its_character():
    # JSON's own rule (see the module's docstring): decoding bytes never makes such a pair
    assert json.loads(dump_json("\ud83d\ude00")) == "\U0001f600"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\ud800b\udfff", "a\\ud800b\\udfff"),  # lone surrogates
        ("x\x00y", "x\\x00y"),  # NUL
        ("\x1b[31mred\x07", "\\x1b[31mred\\x07"),  # a terminal escape sequence
        ("over\rwrite", "over\\rwrite"),  # a carriage return would overwrite the line
        ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),  # DEL and C1 controls
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),  # bidirectional overrides and isolates
        ("line 1\n\tline 2", "line 1\n\tline 2"),  # new lines and tabs stay
        ("é中🙂 \\x00", "é中🙂 \\x00"),  # the rest as it is, a backslash not doubled
        (b"\xff\xfe".decode("utf-8", "surrogateescape"), "\\udcff\\udcfe"),  # bytes that were not UTF-8
    ],
)
def test_escape_text_shows_every_hidden_character(text, shown):
    assert escape_text(text) == shown


def test_escape_text_on_one_line_and_cut():
    assert escape_text("a\nb\tc", one_line=True) == "a\\nb\\tc"
    assert escape_text("abcdef", 4) == "abcd … (2 more characters)"
    assert escape_text("abcd", 4) == "abcd"
    line = HOSTILE["megabyte line"]
    assert escape_text(line, 100) == line[:100] + f" … ({len(line) - 100:,} more characters)"
    assert len(escape_text(line)) == len(line) > MEGABYTE


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_escaped_text_encodes_and_hides_nothing(text):
    for shown in (escape_text(text), escape_text(text, 80, one_line=True)):
        shown.encode("utf-8")
        assert not HIDDEN.search(shown)


def test_escape_surrogates_changes_only_lone_surrogates():
    assert escape_surrogates("a\ud800\x00\x1b é") == "a\\ud800\x00\x1b é"
