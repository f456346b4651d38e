"""Where attempt 2 differs from attempt 1, word by word, as offsets the page's JavaScript can cut the texts at.

The diff is computed here, once, with :mod:`difflib` (Python's own longest-matching-block algorithm, no dependency);
the page only wraps the given ranges in ``<del>`` / ``<ins>``. Offsets are in UTF-16 code units, JavaScript's string
indices, so a character outside the Basic Multilingual Plane (an emoji, a rare CJK ideograph) does not shift them.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# Words, runs of white space, and single other characters: together they cover every character of a text.
TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
LINE = re.compile(r"[^\n]*\n|[^\n]+")
MAX_WORDS = 4000  # past this many words in the two texts, compare lines (difflib is quadratic in the worst case)


def changed_ranges(before: str, after: str) -> tuple[list[int], list[int]]:
    """Flat ``[start, end, start, end, ...]`` UTF-16 ranges: the words of ``before`` that ``after`` dropped or
    replaced, and the words ``after`` added or put in their place. Two empty lists when the texts are equal."""
    if before == after:
        return [], []
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    if len(a) + len(b) > MAX_WORDS:
        a, b = LINE.findall(before), LINE.findall(after)
    a_at, b_at = _utf16_offsets(a), _utf16_offsets(b)
    removed: list[int] = []
    added: list[int] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            _extend(removed, a_at[i1], a_at[i2])
        if j2 > j1:
            _extend(added, b_at[j1], b_at[j2])
    return removed, added


def utf16_length(text: str) -> int:
    # A lone surrogate is one UTF-16 code unit, as in JavaScript; "surrogatepass" encodes it instead of raising.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_offsets(tokens: list[str]) -> list[int]:
    """[N + 1] where each token starts, and where the text ends, in UTF-16 code units."""
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + utf16_length(token))
    return offsets


def _extend(ranges: list[int], start: int, end: int) -> None:
    """Append a range, merged with the previous one when they touch."""
    if ranges and ranges[-1] == start:
        ranges[-1] = end
    else:
        ranges += [start, end]
