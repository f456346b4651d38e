"""A math-verify worker: ``python -m score_env.envs.math.worker``, one JSON line in, one JSON line out.

Request ``[gold, answer]``; reply ``[reason, detail]`` (a :class:`~score_env.records.GradeReason` value). It prints
``ready`` once math-verify is imported. math-verify's own timeouts (``signal.alarm``) are off: the parent
(:class:`envs.math.grader.MathGrader`) bounds every check from outside by killing an overrunning worker; memory is
bounded here (``MEMORY_BYTES`` of address space: an answer that expands without bound gets a ``MemoryError``).

Fault attribution (as in the code judge, :mod:`envs.code.grading`): a gold answer math-verify cannot read is ours
(``error``); whatever goes wrong once the answer is in play is the answer's failure: ``invalid`` when math-verify
raises on it, ``memory`` when it runs out of memory on it (the worker then exits: the parent starts another).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys

from score_env.envs.math.answers import as_latex
from score_env.records import GradeReason

MEMORY_BYTES = 1 << 30  # of address space: math-verify and sympy take ~210 MB of it


def verify_answer(gold: str, answer: str) -> tuple[str, str]:
    """``(reason, detail)`` for one extracted answer against the gold answer. No timeouts here."""
    from math_verify import parse, verify

    try:
        parsed_gold = parse(as_latex(gold), parsing_timeout=None)
    except Exception as error:  # noqa: BLE001  (the grader boundary, on trusted input: ours)
        return GradeReason.ERROR.value, f"math-verify raised {type(error).__name__} on the gold answer {gold!r}"[:500]
    if not parsed_gold:
        return GradeReason.ERROR.value, f"math-verify cannot parse the gold answer {gold!r}"
    try:
        # no_fallback: text math-verify cannot read as math is `unparsable`, not compared as a raw string.
        parsed = parse(as_latex(answer), fallback_mode="no_fallback", parsing_timeout=None)
        if not parsed:
            return GradeReason.UNPARSABLE.value, "math-verify cannot parse the answer"
        # verify(gold, answer) is not symmetric: the gold answer goes first.
        correct = verify(parsed_gold, parsed, timeout_seconds=None)
    except MemoryError:
        raise
    except Exception as error:  # noqa: BLE001  (the grader boundary, on the answer: its failure, not ours)
        return GradeReason.INVALID.value, f"math-verify raised {type(error).__name__} on the answer: {error}"[:500]
    return (GradeReason.OK if correct else GradeReason.WRONG).value, ""


def main() -> None:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything math-verify or sympy prints must not reach the protocol
    import math_verify  # noqa: F401  (once per worker, before saying ready)

    # Its own timeouts are off on purpose (the parent enforces a hard one); silence its warning about it.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        gold, answer = json.loads(line)
        try:
            reply = verify_answer(gold, answer)
        except MemoryError:
            reply = (GradeReason.MEMORY.value, f"math-verify ran out of memory ({MEMORY_BYTES >> 20} MB) on the answer")
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if reply[0] == GradeReason.MEMORY.value:
            break  # its heap may be in pieces: the parent starts another


if __name__ == "__main__":
    main()
