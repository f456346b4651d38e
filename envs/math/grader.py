"""Grading MATH answers with math-verify in worker processes, under a hard per-answer time limit.

Why processes: math-verify bounds its own work with ``signal.alarm``, which raises when called from a non-main thread
(the rollout loop grades in threads) and cancels any other SIGALRM timer of the host. So its own timeouts are turned
off and every check runs in a ``pebble`` process pool: a check that overruns ``timeout_s`` has its worker killed and
replaced, is graded ``timeout``, and the rest of the batch goes on. (``concurrent.futures`` cannot kill one task;
pebble does exactly this, so we use it rather than hand-writing a pool.) ``verify(gold, answer)`` is not symmetric:
the gold answer goes first.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessPool
from pebble.common import ProcessExpired

from score_env.envs.math.answers import as_latex, extract_final_answer
from score_env.records import Grade, GradeReason

DEFAULT_TIMEOUT_S = 5.0


def verify_answer(gold: str, answer: str) -> tuple[str, str]:
    """Worker side: ``(reason, detail)`` for one extracted answer against the gold answer. No timeouts here."""
    from math_verify import parse, verify

    parsed_gold = parse(as_latex(gold), parsing_timeout=None)
    if not parsed_gold:
        return GradeReason.ERROR.value, f"math-verify cannot parse the gold answer {gold!r}"
    # no_fallback: text math-verify cannot read as math is `unparsable`, not compared as a raw string.
    parsed = parse(as_latex(answer), fallback_mode="no_fallback", parsing_timeout=None)
    if not parsed:
        return GradeReason.UNPARSABLE.value, "math-verify cannot parse the answer"
    correct = verify(parsed_gold, parsed, timeout_seconds=None)
    return (GradeReason.OK if correct else GradeReason.WRONG).value, ""


def _init_worker() -> None:
    import math_verify  # noqa: F401  (import once per worker, not per check)

    # We disable math-verify's own timeouts on purpose (the pool enforces a hard one); silence its warning about it.
    logging.getLogger("math_verify").setLevel(logging.ERROR)


class MathGrader:
    """A pool of math-verify workers. ``grade`` is thread-safe; ``grade_many`` grades a batch concurrently."""

    def __init__(self, workers: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.timeout_s = timeout_s
        self.workers = workers or os.cpu_count() or 1
        # forkserver: workers are forked from a clean server process, not from a host that may hold torch threads.
        self._pool = ProcessPool(
            max_workers=self.workers,
            initializer=_init_worker,
            context=multiprocessing.get_context("forkserver"),
        )

    def submit(self, gold: str, response: str) -> Future | Grade:
        """Start grading ``response``; a response with no final answer is graded at once."""
        answer = extract_final_answer(response)
        if not gold.strip():
            return Grade(False, GradeReason.ERROR, answer, "this problem has no gold answer (a known MATH data error)")
        if answer is None:
            return Grade.unparsable("no 'The final answer is ...' and no \\boxed{} in the response")
        future = self._pool.schedule(verify_answer, args=(gold, answer), timeout=self.timeout_s)
        future.answer = answer  # type: ignore[attr-defined]
        return future

    def grade(self, gold: str, response: str) -> Grade:
        return self._result(self.submit(gold, response))

    def grade_many(self, golds: Sequence[str], responses: Sequence[str]) -> list[Grade]:
        """Grade a batch: all checks are queued at once, so ``workers`` run in parallel."""
        pending = [self.submit(g, r) for g, r in zip(golds, responses, strict=True)]
        return [self._result(p) for p in pending]

    def _result(self, pending: Future | Grade) -> Grade:
        if isinstance(pending, Grade):
            return pending
        answer = pending.answer  # type: ignore[attr-defined]
        try:
            reason, detail = pending.result()
        except FutureTimeout:
            return Grade(False, GradeReason.TIMEOUT, answer, f"math-verify took longer than {self.timeout_s} s")
        except ProcessExpired as exc:  # the worker died (for example out of memory)
            return Grade(False, GradeReason.ERROR, answer, f"grader worker died: {exc}")
        except Exception as exc:  # noqa: BLE001  (the grader boundary: any failure becomes a visible `error`)
            return Grade(False, GradeReason.ERROR, answer, f"{type(exc).__name__}: {exc}")
        return Grade(reason == GradeReason.OK.value, GradeReason(reason), answer, detail)

    def close(self) -> None:
        self._pool.stop()
        self._pool.join()


_shared: dict[float, MathGrader] = {}
_lock = threading.Lock()


def shared_grader(timeout_s: float = DEFAULT_TIMEOUT_S) -> MathGrader:
    """One pool per time limit for the whole process (every MATH env of a rollout shares it); stopped at exit."""
    with _lock:
        if timeout_s not in _shared:
            _shared[timeout_s] = grader = MathGrader(timeout_s=timeout_s)
            atexit.register(grader.close)
        return _shared[timeout_s]
