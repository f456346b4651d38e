"""Worked arithmetic steps, the two ways the embedded model's corpus writes them: quick and careful.

A *quick* step writes a result at once (``7 * 8 = 56``). Easy steps slip rarely (a random small error). Hard steps
go systematically wrong most of the time, always the same way (``7 * 8 = 48``: a row of the table too few), which is
what makes the greedy model wrong on them: its most likely result is the wrong one. The hard kinds:

- ``mul``: a product outside the table up to 5 (both one-digit factors 6 or more) or with a many-digit factor;
  the systematic error is one factor too few (``7 * 8 = 48``);
- ``carry``: an addition whose ones digits sum past ten; the error forgets the carry (``47 + 8 = 45``);
- ``borrow``: a subtraction that borrows; the error forgets the borrow (``52 - 8 = 54``);
- ``sign``: a step with a negative operand or result; the error drops the sign (``3 - 72 = 69``).

A *careful* step rewrites a hard step as a chain of easy ones (more tokens, each as reliable as any easy step;
a part that is itself hard is worked out first, in a sentence of its own)::

    7 * 8 = 7 * 5 + 7 * 3 = 35 + 21 = 56
    47 + 8 = 47 + 3 + 5 = 50 + 5 = 55
    52 - 8 = 52 - 2 - 6 = 50 - 6 = 44
    72 - 3 = 72 - 2 - 1 = 70 - 1 = 69. 3 - 72 = -(72 - 3) = -69

so a careful pass is more reliable than a quick one only because it avoids the hard steps, the way a careful
re-check by a real model costs more tokens and slips less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["easy", "mul", "carry", "borrow", "sign"]


@dataclass(frozen=True)
class Rates:
    """How often a quick step of each kind goes wrong (hard kinds: the systematic error; easy: a random slip)."""

    easy: float = 0.03
    mul: float = 0.65  # the hard kinds' one rate: benchmarks/corpus_calibration.py fits it to a real base model
    carry: float = 0.65
    borrow: float = 0.65
    sign: float = 0.65

    def of(self, kind: Kind) -> float:
        return float(getattr(self, kind))


def step_kind(a: int, op: str, b: int) -> Kind:
    """How hard ``a op b`` is to compute at once."""
    if a < 0 or b < 0 or (op == "-" and b > a):
        return "sign"
    if op == "*":
        return _product_kind(a, b)
    if op == "+":
        return "carry" if a % 10 + b % 10 > 10 else "easy"
    return "borrow" if a % 10 not in (0, b % 10) and a % 10 < b % 10 else "easy"


def _product_kind(a: int, b: int) -> Kind:
    if min(a, b) <= 1:
        return "easy"
    if a % 10 == 0 or b % 10 == 0:  # a round factor: as hard as the product without its zero
        round_, other = (a, b) if a % 10 == 0 else (b, a)
        return _product_kind(round_ // 10, other)
    return "mul" if max(a, b) >= 10 or min(a, b) >= 6 else "easy"


def exact(a: int, op: str, b: int) -> int:
    return a * b if op == "*" else a + b if op == "+" else a - b


def systematic_error(a: int, op: str, b: int, kind: Kind) -> int:
    """The one wrong result a quick hard step writes (see the module docstring)."""
    right = exact(a, op, b)
    match kind:
        case "mul":
            return right - max(a, b)
        case "carry":
            return right - 10
        case "borrow":
            return right + 10
        case "sign":
            return -right if right != 0 else 1
    raise ValueError(f"{kind!r} has no systematic error")


def quick_step(a: int, op: str, b: int, rng: np.random.Generator, rates: Rates) -> tuple[str, int]:
    """``a op b = result`` at once: right, or wrong as its kind goes wrong."""
    kind = step_kind(a, op, b)
    result = exact(a, op, b)
    if rng.random() < rates.of(kind):
        result = systematic_error(a, op, b, kind) if kind != "easy" else result + int(rng.choice([-2, -1, 1, 2]))
    return f"{_num(a)} {op} {_num(b)} = {_num(result)}", result


def careful_step(a: int, op: str, b: int, rng: np.random.Generator, rates: Rates) -> tuple[str, int]:
    """``a op b`` rewritten as easy steps, each slipping as rarely as any easy step; ``(text, result)``.

    One chain of rewrites (``7 * 8 = 7 * 5 + 7 * 3 = 35 + 21 = 56``); a part that is itself hard is worked out in a
    sentence of its own before the chain that uses it."""
    kind = step_kind(a, op, b)
    if kind == "easy":
        return quick_step(a, op, b, rng, rates)
    head = f"{_num(a)} {op} {_num(b)}"
    if kind == "sign":
        return _careful_sign(a, op, b, rng, rates)
    if kind == "mul":
        big, small = (a, b) if a >= b else (b, a)
        if big % 10 == 0 or small % 10 == 0:  # a round factor: 70 * 8 = 7 * 8 * 10
            round_, other = (big, small) if big % 10 == 0 else (small, big)
            before, value = _part(round_ // 10, "*", other, rng, rates)
            times_ten, total = quick_step(value, "*", 10, rng, rates)
            return _chain(before, f"{head} = {_num(round_ // 10)} * {_num(other)} * 10 = {times_ten}"), total
        # place value (56 * 9 = 50 * 9 + 6 * 9), or the table up to 5 (7 * 8 = 7 * 5 + 7 * 3)
        parts = [(big - big % 10, small), (big % 10, small)] if big >= 10 else [(big, 5), (big, small - 5)]
        (b1, v1), (b2, v2) = (_part(x, "*", y, rng, rates) for x, y in parts)
        total_text, total = careful_step(v1, "+", v2, rng, rates)
        rewrite = " + ".join(f"{_num(x)} * {_num(y)}" for x, y in parts)
        return _chain(b1 + b2, f"{head} = {rewrite} = {total_text}"), total
    if kind == "carry":  # to the next ten first: 47 + 8 = 47 + 3 + 5 = 50 + 5 = 55
        up = 10 - a % 10
        _, v1 = quick_step(a, "+", up, rng, rates)
        rest, total = careful_step(v1, "+", b - up, rng, rates)
        return f"{head} = {_num(a)} + {up} + {_num(b - up)} = {rest}", total
    down = a % 10  # borrow: down to the ten first: 52 - 8 = 52 - 2 - 6 = 50 - 6 = 44
    _, v1 = quick_step(a, "-", down, rng, rates)
    rest, total = careful_step(v1, "-", b - down, rng, rates)
    return f"{head} = {_num(a)} - {down} - {_num(b - down)} = {rest}", total


def _careful_sign(a: int, op: str, b: int, rng: np.random.Generator, rates: Rates) -> tuple[str, int]:
    """Negative numbers: work with magnitudes, then put the sign back (3 - 72 = -(72 - 3) = -69)."""
    head = f"{_num(a)} {op} {_num(b)}"
    if op == "*":  # a factor made negative by an earlier slip: -2 * 6 = -(2 * 6) = -12
        before, value = _part(abs(a), "*", abs(b), rng, rates)
        sign = "" if (a < 0) == (b < 0) else "-"
        value = value if not sign else -value
        return _chain(before, f"{head} = {sign}({_num(abs(a))} * {_num(abs(b))}) = {_num(value)}"), value
    if b < 0:  # a right operand made negative by an earlier slip: 3 + -1 = 3 - 1 = 2
        flipped = "-" if op == "+" else "+"
        text, value = careful_step(a, flipped, -b, rng, rates)
        return f"{head} = {text}", value
    if op == "+" and b > -a:  # crosses zero: -5 + 9 = 9 - 5 = 4
        text, value = careful_step(b, "-", -a, rng, rates)
        return f"{head} = {text}", value
    x, inner, y = (b, "-", a) if a >= 0 else (-a, "-", b) if op == "+" else (-a, "+", b)
    before, value = _part(x, inner, y, rng, rates)
    return _chain(before, f"{head} = -({_num(x)} {inner} {_num(y)}) = {_num(-value)}"), -value


def _part(a: int, op: str, b: int, rng: np.random.Generator, rates: Rates) -> tuple[list[str], int]:
    """A part of a careful rewrite: its value, and the sentence that works it out when it is itself hard."""
    text, value = careful_step(a, op, b, rng, rates)
    return ([] if step_kind(a, op, b) == "easy" else [text]), value


def _chain(before: list[str], chain: str) -> str:
    return ". ".join([*before, chain])


def _num(value: int) -> str:
    return str(value)
