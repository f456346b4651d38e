"""The random streams of a training run are named once and never draw the same seed for two purposes."""

from __future__ import annotations

import itertools

from score_env.training.streams import EARLY_PASSES, ROUND_STEP, Stream, data_order


def test_every_pass_over_sft_examples_has_a_stream_of_its_own():
    named = {int(s) for s in Stream if s not in (Stream.DATA_ORDER, Stream.LATE_DATA_ORDER)}
    passes = [data_order(n) for n in range(10_000)]
    assert len(set(passes)) == len(passes) and not named & set(passes)
    assert [data_order(n) for n in range(EARLY_PASSES)] == [2, 3, 4, 5, 6]  # what every landed run drew


def test_the_draws_of_a_run_are_distinct():
    """(step, stream) of every draw a run of each agent makes, for a long run: no two purposes share one."""
    steps, rounds, passes = 5_000, 3, 50
    draws = {
        "sampling": {(s, Stream.SAMPLING) for s in range(steps)},
        "problems": {(s, Stream.PROBLEMS) for s in range(steps)},
        "star rounds": {(r, Stream.STAR_ROUND) for r in range(rounds)},
        "star problems": {(ROUND_STEP + r, Stream.PROBLEMS) for r in range(rounds)},
        "pairs": {(0, Stream.PAIRS)},
        "data order": {(first, data_order(n)) for first in (0, 32, 64) for n in range(passes)},
    }
    for (a, one), (b, other) in itertools.combinations(draws.items(), 2):
        assert not one & other, (a, b)
