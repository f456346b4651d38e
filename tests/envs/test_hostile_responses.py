"""Every built-in task grades hostile text (lone surrogates, NUL, escapes, invalid UTF-8, a megabyte line) as a
response like any other: a grade that is not ``error``, through the env, as a policy's answer would go (issue #24)."""

from __future__ import annotations

import gymnasium as gym
import pytest

from score_env.records import GradeReason
from tests.hostile import HOSTILE

CODE = {
    f"fenced {name}": f"```python\ndef has_close_elements(numbers, threshold):\n    return {text!r}\n```"
    for name, text in HOSTILE.items()
}
RESPONSES = {**HOSTILE, **{f"boxed {name}": f"\\boxed{{{text}}}" for name, text in HOSTILE.items()}}


@pytest.fixture(scope="module")
def envs():
    made = {
        "arithmetic": gym.make("score/Arithmetic-v0").unwrapped,
        "math": gym.make("score/MATH-v0").unwrapped,
        "code": gym.make("score/HumanEval-v0", timeout_s=3).unwrapped,
    }
    yield made
    for env in made.values():
        env.close()


@pytest.mark.parametrize("task", ["arithmetic", "math", "code"])
@pytest.mark.parametrize("name", sorted(RESPONSES) + sorted(CODE))
def test_a_hostile_response_gets_a_grade_that_is_not_error(envs, task, name):
    if task != "code" and name in CODE:
        pytest.skip("code responses are for the code task")
    env = envs[task]
    env.reset(options={"index": 0})
    _, reward, _, _, info = env.step(CODE.get(name) or RESPONSES[name])
    assert info["reason"] != GradeReason.ERROR.value and reward in (0.0, 1.0), info
