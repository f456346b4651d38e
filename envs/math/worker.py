"""A math-verify worker: ``python -m score_env.envs.math.worker``, one JSON line in, one JSON line out.

Request ``[gold, answer]``; reply ``[reason, detail]`` (a :class:`~score_env.records.GradeReason` value). It prints
``ready`` once math-verify is imported. math-verify's own timeouts (``signal.alarm``) are off: the parent
(:class:`envs.math.grader.MathGrader`) bounds every check from outside by killing an overrunning worker.
"""

from __future__ import annotations

import json
import logging
import os
import sys

from score_env.envs.math.answers import as_latex
from score_env.records import GradeReason


def verify_answer(gold: str, answer: str) -> tuple[str, str]:
    """``(reason, detail)`` for one extracted answer against the gold answer. No timeouts here."""
    from math_verify import parse, verify

    parsed_gold = parse(as_latex(gold), parsing_timeout=None)
    if not parsed_gold:
        return GradeReason.ERROR.value, f"math-verify cannot parse the gold answer {gold!r}"
    # no_fallback: text math-verify cannot read as math is `unparsable`, not compared as a raw string.
    parsed = parse(as_latex(answer), fallback_mode="no_fallback", parsing_timeout=None)
    if not parsed:
        return GradeReason.UNPARSABLE.value, "math-verify cannot parse the answer"
    # verify(gold, answer) is not symmetric: the gold answer goes first.
    correct = verify(parsed_gold, parsed, timeout_seconds=None)
    return (GradeReason.OK if correct else GradeReason.WRONG).value, ""


def main() -> None:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything math-verify or sympy prints must not reach the protocol
    import math_verify  # noqa: F401  (once per worker, before saying ready)

    # Its own timeouts are off on purpose (the parent enforces a hard one); silence its warning about it.
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        gold, answer = json.loads(line)
        try:
            reply = verify_answer(gold, answer)
        except Exception as error:  # noqa: BLE001  (the grader boundary: a math-verify failure is an `error` grade)
            reply = (GradeReason.ERROR.value, f"math-verify raised {type(error).__name__}: {error}"[:500])
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
