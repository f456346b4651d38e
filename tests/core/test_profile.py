"""The phase profile: exclusive time per phase, two levels deep, main thread only."""

from __future__ import annotations

import threading
import time

from score_env.profile import Spent, from_json, phase, since, snapshot, to_json


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_time_goes_to_the_innermost_two_levels_and_not_to_the_enclosing_phase():
    before = snapshot()
    with phase("job"):
        busy(0.02)
        with phase("sampling"):
            busy(0.03)
            with phase("deeper"):  # charged to job/sampling: keys stop at two levels
                busy(0.01)
        with phase("learner"):
            busy(0.02)
    spent = since(before)
    assert set(spent) - {"other"} == {"job", "job/sampling", "job/learner"}  # other: outside any phase
    assert 0.02 <= spent["job"].wall < 0.03
    assert 0.04 <= spent["job/sampling"].wall < 0.06
    assert spent["job/learner"].wall >= 0.02
    assert all(s.cpu > 0 for s in spent.values())  # busy loops spend CPU


def test_a_phase_entered_outside_the_main_thread_is_not_recorded():
    before = snapshot()

    def work():
        with phase("elsewhere"):
            busy(0.01)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not any("elsewhere" in key for key in since(before))


def test_cores_in_use_and_the_json_round_trip():
    assert Spent(2.0, 3.0).cores == 1.5 and Spent(0.0, 0.0).cores == 0.0
    spent = {"training/sampling": Spent(1.25, 2.5)}
    assert from_json(to_json(spent)) == spent
