"""Reading what a candidate sends, on the judge's and the host's side: every line bounded before it is parsed, every
message checked after.

A reply line is the candidate's, whatever its driver meant to write: its code can write on the channel too. So a
line is parsed only when it is at most ``MAX_LINE_BYTES``, with ``json`` (linear in the line; its nesting stops at
the interpreter's recursion limit, its integers at ``MAX_DIGITS`` digits), must be a message with exactly the keys
the protocol allows, and a value in it is rebuilt by :func:`wire.decode`, which bounds every value before building
it. Anything else raises :class:`InvalidReply`: the candidate's failure (``invalid``), never ours.
"""

from __future__ import annotations

import json

from score_env.envs.code.wire import decode

MAX_LINE_BYTES = (1 << 20) + 64  # a reply the sandbox let through (Limits.max_reply_bytes) and its framing
MAX_TEXT = 1000  # of a message's text (an exception the candidate raised, why it could not send a result)
_ANSWERS = ("value", "raised", "error")


class InvalidReply(ValueError):
    """The candidate sent what the protocol does not allow, or a value past the format's bounds."""


def read_answer(line: bytes) -> tuple[str, object]:
    """A call's answer: ``("value", the judge's own object)``, ``("raised", text)`` or ``("error", text)``."""
    message = _message(line)
    if len(message) != 1 or (key := next(iter(message))) not in _ANSWERS:
        raise InvalidReply(f"not an answer: a message with the keys {_keys(message)}")
    if key != "value":
        return key, _text(message[key])
    try:
        return key, decode(message["value"])
    except (ValueError, TypeError, LookupError, ArithmeticError, RecursionError) as error:
        raise InvalidReply(f"the value is not valid data ({type(error).__name__}: {str(error)[:200]})") from None


def read_ready(line: bytes) -> str | None:
    """None when the candidate's code loaded, else what it raised while loading."""
    message = _message(line)
    if message == {"ready": True}:
        return None
    if set(message) != {"ready", "error"} or message["ready"] is not False:
        raise InvalidReply(f"not the driver's ready message: a message with the keys {_keys(message)}")
    return _text(message["error"])


def _message(line: bytes) -> dict:
    if len(line) > MAX_LINE_BYTES:
        raise InvalidReply(f"a line of {len(line)} bytes (at most {MAX_LINE_BYTES})")
    try:
        message = json.loads(line, parse_constant=_refuse)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, an integer past the digit limit; nesting
        raise InvalidReply(f"not a message ({type(error).__name__}: {str(error)[:200]})") from None
    if type(message) is not dict:
        raise InvalidReply(f"not a message: a JSON {type(message).__name__}")
    return message


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _text(value: object) -> str:
    if type(value) is not str:
        raise InvalidReply(f"a message's text is a {type(value).__name__}")
    return value[:MAX_TEXT]


def _keys(message: dict) -> str:
    return ", ".join(sorted(repr(k[:20]) for k in message)[:5]) or "none"
