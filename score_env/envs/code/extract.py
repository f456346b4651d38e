"""Reading the program out of a model's response: markdown fences, MBPP's [BEGIN]/[DONE], or raw text."""

from __future__ import annotations

import ast
import re
import threading
import warnings

_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def extract_code(response: str, entry_point: str | None = None) -> str | None:
    """The program in ``response``, or None if there is none.

    Fenced blocks first: the last one that defines ``entry_point`` (else the last one). Without fences, the text
    before ``[DONE]`` (MBPP's format), else the whole response.
    """
    blocks = [b.strip() for b in _FENCE.findall(response) if b.strip()]
    if blocks:
        defining = [b for b in blocks if entry_point and re.search(rf"def\s+{re.escape(entry_point)}\s*\(", b)]
        return (defining or blocks)[-1]
    text = response.split("[DONE]")[0].replace("[BEGIN]", "").strip()
    return text or None


# Building an AST in several threads at once can fail in CPython 3.11 with "SystemError: AST constructor recursion
# depth mismatch" (python/cpython#106905), and warnings.catch_warnings is process-wide: the grading threads parse one
# at a time (a parse takes well under a millisecond).
AST_LOCK = threading.Lock()


def syntax_error(code: str) -> str | None:
    """Why ``code`` does not parse as Python, or None. Parsing only: nothing of it runs here."""
    try:
        with AST_LOCK, warnings.catch_warnings():  # a model's invalid escapes ("\d") are its own business
            warnings.simplefilter("ignore")
            try:
                ast.parse(code)
            except SystemError:  # the same CPython bug, raced by an AST built outside the lock: parse again
                ast.parse(code)
    except SyntaxError as error:
        return f"SyntaxError: {error.msg} (line {error.lineno})"
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
        return f"{type(error).__name__}: the code cannot be parsed"
    return None
