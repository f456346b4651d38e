"""Model text that can crash a run if it is written or shown carelessly (issue 24, item 4): one string per family,
each with an ``Answer: <n>`` so the arithmetic grader reads it (problem ``n - 1`` of a test gets family ``n``)."""

from __future__ import annotations

from score_env.records import Attempt, Episode, Grade, Message

MEGABYTE = 1_000_000

HOSTILE = {
    # a candidate program's `raise ValueError("\ud800")` puts this in a grade's detail
    "lone high surrogate": 'Answer: 1. raise ValueError("\ud800")',
    "lone low surrogate": "\udfff Answer: 2",
    "NUL bytes": "Answer: 3\x00\x00 after two NULs",
    # clear the screen, retitle the window, recolour, overwrite the line; DEL and a C1 CSI
    "terminal escapes": "\x1b[2J\x1b]0;pwned\x07\x1b[31mAnswer: 4\r overwritten \x7f\x9b1m",
    "rich markup": "[bold red]Answer: 5[/] [/red] [link=file:///etc/passwd]x[/link] :warning:",
    # bytes that are not UTF-8, decoded as Python decodes file names and sandbox output with surrogateescape
    "invalid UTF-8": b"Answer: 6 \xff\xfe \xc3( \xed\xa0\x80".decode("utf-8", "surrogateescape"),
    "bidi override and HTML": "\u202eAnswer: 7\u202c </script><script>window.pwned = 1</script><!-- & -->",
    "megabyte line": "Answer: 8 " + "0123456789" * (MEGABYTE // 10),
}
AGAIN = " (attempt 2)"  # what attempt 2 adds to attempt 1 in these tests


def hostile_episode(index: int, text: str) -> Episode:
    """``text`` as attempt 1 and (with ``AGAIN``) attempt 2, in the problem and in both grades' details."""
    question = Message("user", f"Problem {index}: {text}")
    grade = Grade.wrong("0", detail=f"the program printed: {text}")
    first = Attempt((question,), text, (1,), (-0.1,), "stop", 0.0, grade)
    prompt = (question, Message("assistant", text), Message("user", "There might be an error above."))
    second = Attempt(prompt, text + AGAIN, (2,), (-0.2,), "stop", 0.0, grade)
    return Episode(f"hostile/{index}", index, 0, (first, second))
