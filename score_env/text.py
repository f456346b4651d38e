"""Model text, stored and shown without ever crashing a run (issue 24, item 4).

What a model writes, what a grader says about it and what a sandbox's program printed are untrusted ``str``s, and a
Python ``str`` can hold what no file, terminal or page takes as it is:

- **lone surrogates** (``"\\ud800"``): a program's ``raise ValueError("\\ud800")`` travels through the judge's JSON
  into a grade's ``detail``, and bytes that are not UTF-8, decoded with ``surrogateescape``, become ``\\udc80`` ...
  ``\\udcff``. Encoding them to UTF-8 raises ``UnicodeEncodeError``, so ``json.dumps(..., ensure_ascii=False)``
  written to a UTF-8 file loses the whole batch (and a rerun crashes again on it);
- **control characters**: NUL, ``\\x1b`` (a terminal escape sequence can recolour, move the cursor or retitle the
  window), ``\\r`` (overwrites the line it is on), C1 controls, and the bidirectional overrides that reorder what a
  reader sees (U+202A..U+202E, U+2066..U+2069);
- **megabyte lines**, which no table cell or console line should print whole.

Three functions, for three jobs:

- :func:`dump_json` is how every run file that may hold such text is written: exact. Non-ASCII stays readable
  (``ensure_ascii=False``) and a lone surrogate is written as its JSON escape ``\\udXXX``, so the file is valid UTF-8
  and ``json.loads`` gives back exactly the original string. (One limit is JSON's own: a high surrogate directly
  followed by a low one is read back as the one character the pair encodes. Decoding bytes never makes such a
  pair, and ``json.loads`` never keeps one.)
- :func:`escape_text` is how such text is shown: in a console, a markdown file, an HTML page, an error message. Every
  character a reader could not see, or that a terminal would act on, becomes a visible escape (``\\x00``,
  ``\\x1b``, ``\\r``, ``\\ud800``); ``\\n`` and ``\\t`` stay unless the text must fit on one line, and ``limit`` cuts
  a long text with a note of how much was cut. A backslash the text already had is not doubled, so a text that
  spells ``\\x00`` itself looks the same as a NUL: the run directory, not the display, is the exact record.
- :func:`escape_surrogates` is for a wire whose encoder we do not own and which rejects lone surrogates (pydantic's
  JSON in the OpenEnv server): only they become ``\\udXXX``; everything else, controls included, goes as it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# What a reader cannot see or a terminal acts on: C0 controls but \t and \n, DEL and C1 controls, the bidirectional
# embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574), surrogates.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_HIDDEN_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def dump_json(value: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """``value`` as JSON text that encodes to UTF-8 whatever strings it holds, and reads back exactly.

    Args:
        value: what ``json.dumps`` takes.
        indent: as ``json.dumps``'s.
        compact: no spaces after ``,`` and ``:`` (a page's embedded data).
    """
    separators = (",", ":") if compact else None
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    # JSON's syntax is ASCII, so any surrogate in the text is inside a string literal, where its escape means it.
    return _LONE_SURROGATE.sub(_escape_char, text)


def escape_text(text: str, limit: int | None = None, *, one_line: bool = False) -> str:
    """``text`` safe to print or show: every invisible or terminal-controlling character as a visible escape.

    Args:
        text: any string (a response, a grade's detail, a program's output, an error message).
        limit: keep at most this many characters of ``text``, then say how many were cut (for a table cell, a
            console line). None: all of it.
        one_line: also show ``\\n`` and ``\\t`` as escapes (a markdown list item, a table cell, a log line).
    """
    cut = 0 if limit is None else max(len(text) - limit, 0)
    if cut:
        text = text[:limit]
    shown = (_HIDDEN_OR_BREAK if one_line else _HIDDEN).sub(_escape_char, text)
    return shown + (f" … ({cut:,} more characters)" if cut else "")


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as its escape ``\\udXXX``, so that it encodes to UTF-8."""
    return _LONE_SURROGATE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
