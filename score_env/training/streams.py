"""The random streams of a training run, in one place.

Every draw of a run is seeded by ``SeedSequence([run seed, step, stream])`` (:meth:`TrainingSession.step_seed`), so a
resumed run draws what an uninterrupted one would. The values are the ones every landed run drew with: a new stream
takes a value no other stream can reach (``tests/core/training/test_streams.py`` checks that they are distinct).
"""

from __future__ import annotations

from enum import IntEnum


class Stream(IntEnum):
    SAMPLING = 0  # the sampler's seed for a step's episodes (and Pair-SFT's one collection, at step 0)
    PROBLEMS = 1  # which problems a step draws
    DATA_ORDER = 2  # the order of SFT / STaR examples: pass n draws DATA_ORDER + n, for n < EARLY_PASSES
    STAR_ROUND = 7  # the sampler's seed for a STaR round's collection (step = the round)
    PAIRS = 9  # Pair-SFT's choice of a right response for each wrong one (step 0)
    LATE_DATA_ORDER = 100  # pass n >= EARLY_PASSES draws LATE_DATA_ORDER + n: clear of every stream above


EARLY_PASSES = 5  # passes 0-4 draw 2-6; pass 5 would have drawn 7 (STAR_ROUND), pass 7 drawn 9 (PAIRS)
ROUND_STEP = 10_000  # STaR draws round r's problems as step ROUND_STEP + r of PROBLEMS (its updates draw none)


def data_order(number: int) -> int:
    """The stream of pass ``number`` over a set of SFT examples."""
    return Stream.DATA_ORDER + number if number < EARLY_PASSES else Stream.LATE_DATA_ORDER + number
