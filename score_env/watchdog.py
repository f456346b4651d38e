"""Work that must return within a bound: a grader on a model's answer (which Python cannot interrupt)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class GraderHung(RuntimeError):
    """The grader did not return within the bound."""


def within(bound_s: float, work: Callable[[], T], what: str) -> T:
    """``work()`` in a daemon thread; its result, or :class:`GraderHung` after ``bound_s`` seconds."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # noqa: BLE001  (carried to the caller's thread, raised there)
            box["error"] = error

    thread = threading.Thread(target=run, name="score-env-watchdog", daemon=True)
    thread.start()
    thread.join(bound_s)
    if thread.is_alive():
        raise GraderHung(f"{what} did not return within {bound_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]
