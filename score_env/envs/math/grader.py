"""Grading MATH answers with math-verify in worker processes, every call bounded in time.

Why workers: math-verify bounds its own work with ``signal.alarm``, which raises when called from a non-main thread
(the rollout loop grades in threads) and cancels any other SIGALRM timer of the host. So its own timeouts are off
and every check runs in a worker process that the parent kills and replaces when it overruns ``timeout_s``; the
check is graded ``timeout`` and the rest of the batch goes on.

Why not ``multiprocessing`` (a pebble forkserver pool until issue #12): its spawn and forkserver workers re-run the
host's main module, so a host script without an ``if __name__ == "__main__":`` guard graded every answer ``error``
(and from ``python -`` a step hung for minutes); fork copies a host that may hold threads. Each worker here is a
plain ``python -m score_env.envs.math.worker`` (:mod:`envs.worker_process`): it never sees the host's main module,
so grading works the same from a script, ``python -``, ``python -c`` or a notebook.

Bounds: a worker gets ``start_timeout_s`` to start (import math-verify), each check ``timeout_s`` and its memory
limit (:mod:`envs.math.worker`); a worker that misses either is killed, and the call returns ``timeout`` (the
check) or ``error`` (the start). No call waits on anything unbounded: a call waiting for a free worker waits for
calls that are each bounded.

Fault attribution (as in the code judge): ``error`` only for what no answer can cause (no gold answer, a worker that
does not start or is gone before it took the answer); once the answer reached a worker, a worker that dies or
answers out of protocol is the answer's failure (``invalid``), one that overruns its ``timeout`` (``timeout``).
"""

from __future__ import annotations

import json
import os
import queue
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from score_env.envs.math.answers import extract_final_answer
from score_env.envs.worker_process import LineProcess
from score_env.records import Grade, GradeReason

DEFAULT_TIMEOUT_S = 5.0
START_TIMEOUT_S = 120.0  # importing math-verify and sympy: ~2 s alone, much longer on a loaded host


class MathGrader:
    """Up to ``workers`` math-verify workers. ``grade`` is thread-safe; ``grade_many`` grades a batch concurrently.
    Its owner (the MATH task) ends the workers with :meth:`close`."""

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        start_timeout_s: float = START_TIMEOUT_S,
        command: Sequence[str] | None = None,
    ):
        """``command`` starts one worker; by default ``python -P -m score_env.envs.math.worker`` on this interpreter
        (``-P``: the host's working directory cannot shadow a module)."""
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.timeout_s, self.start_timeout_s = timeout_s, start_timeout_s
        self.command = list(command or [sys.executable, "-P", "-m", "score_env.envs.math.worker"])
        self.workers = workers or os.cpu_count() or 1
        self._slots: queue.Queue[LineProcess | None] = queue.Queue()
        for _ in range(self.workers):
            self._slots.put(None)  # a slot without a worker yet: started on first use
        self._closed = False

    def start(self) -> None:
        """Start every worker now (they start on first use otherwise), in parallel."""
        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(lambda _: self._release(self._acquire()[0]), range(self.workers)))

    def grade(self, gold: str, response: str) -> Grade:
        answer = extract_final_answer(response)
        if not gold.strip():
            return Grade(False, GradeReason.ERROR, answer, "this problem has no gold answer (a known MATH data error)")
        if answer is None:
            return Grade.unparsable("no 'The final answer is ...' and no \\boxed{} in the response")
        worker, failure = self._acquire()
        try:
            if worker is None:
                return Grade(False, GradeReason.ERROR, answer, failure)
            return self._check(worker, gold, answer)
        finally:
            self._release(worker)

    def grade_many(self, golds: Sequence[str], responses: Sequence[str]) -> list[Grade]:
        """Grade a batch, ``workers`` checks at a time."""
        pairs = list(zip(golds, responses, strict=True))
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(lambda pair: self.grade(*pair), pairs))

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                worker = self._slots.get_nowait()
            except queue.Empty:
                return
            if worker is not None:
                worker.kill()

    def _check(self, worker: LineProcess, gold: str, answer: str) -> Grade:
        deadline = time.monotonic() + self.timeout_s
        sent = worker.send(json.dumps([gold, answer]).encode(), deadline)
        line = worker.read_line(deadline) if sent else None
        if line is None:
            alive = worker.alive
            worker.kill()
            if alive:
                return Grade(False, GradeReason.TIMEOUT, answer, f"math-verify took longer than {self.timeout_s} s")
            died = f"the grader worker died (exit code {worker.proc.returncode})"
            if not sent:  # gone before it took the answer: nothing of the answer's doing
                return Grade(False, GradeReason.ERROR, answer, died)
            return Grade(False, GradeReason.INVALID, answer, f"{died} on this answer")
        try:
            reason, detail = json.loads(line)
            grade = Grade(reason == GradeReason.OK.value, GradeReason(reason), answer, detail)
        except (ValueError, TypeError):
            worker.kill()  # out of step with the protocol: never reused
            why = f"the grader worker answered {line[:100]!r} on this answer"
            return Grade(False, GradeReason.INVALID, answer, why)
        if grade.reason is GradeReason.MEMORY:
            worker.kill()  # it exits by itself: not a worker the next answer may be sent to
        return grade

    def _acquire(self) -> tuple[LineProcess | None, str]:
        """A live worker (started if need be), or None and why not."""
        if self._closed:  # its slots are gone: waiting for one would wait forever
            return None, "the grader is closed (its task was closed before this answer was graded)"
        worker = self._slots.get()
        if worker is not None and worker.alive:
            return worker, ""
        if worker is not None:
            worker.kill()
        worker = LineProcess(self.command)
        if worker.read_line(time.monotonic() + self.start_timeout_s) == b"ready":
            return worker, ""
        worker.kill()
        return None, f"a grader worker did not start within {self.start_timeout_s:g} s ({' '.join(self.command)})"

    def _release(self, worker: LineProcess | None) -> None:
        if worker is not None and (self._closed or not worker.alive):
            worker.kill()
            worker = None
        if not self._closed:
            self._slots.put(worker)  # the slot goes back (empty when its worker died: restarted on next use)
