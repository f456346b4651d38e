"""Every attack family of issue #12 earns reward 0 through the envs, on every backend, and the grader stays healthy.

One test per attack (tests/sandboxes/attacks.py says how each forged the old harness). Through ``gym.make`` with
``sandbox=<backend>``, as a policy's answer would go.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import score_env.envs  # noqa: F401  (registers the envs)
from score_env.envs.code.tasks import humaneval_problems
from tests.sandboxes.attacks import ATTACKS, HUMANEVAL, LEAKS, MBPP_VALIDATION, leak_attack, leak_would_pass


@pytest.fixture(scope="module")
def step(backend):
    """``step(env_id, index, code) -> (reward, info)``, on this backend."""
    name = backend.sandbox.name
    envs = {
        HUMANEVAL: gym.make(HUMANEVAL, sandbox=name, timeout_s=3).unwrapped,
        MBPP_VALIDATION: gym.make(MBPP_VALIDATION, split="validation", sandbox=name, timeout_s=3).unwrapped,
    }

    def run(env_id: str, index: int, code: str) -> tuple[float, dict]:
        env = envs[env_id]
        env.reset(options={"index": index})
        response = code if env_id == MBPP_VALIDATION else f"```python\n{code}\n```"
        _, reward, _, _, info = env.step(response)
        assert info["sandbox"] == name  # the grade records the backend that ran it
        return reward, info

    yield run
    for env in envs.values():
        env.close()  # the envs own their sandboxes (and docker's containers started ahead): nothing left running


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_earns_nothing(step, attack):
    reward, info = step(*ATTACKS[attack])
    assert reward == 0.0 and info["reason"] in ("wrong", "timeout"), info


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_the_tests_are_nowhere_in_the_sandbox(step, leak):
    reward, info = step(HUMANEVAL, 0, leak_attack(leak))
    assert reward == 0.0 and info["reason"] == "wrong", info


def test_the_leak_attacks_would_pass_with_the_tests_in_hand(step):
    # What makes the leak tests above meaningful: had any of them found the tests, it would have earned 1.
    reward, info = step(HUMANEVAL, 0, leak_would_pass(humaneval_problems()[0].reference))
    assert reward == 1.0, info


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("'x' * 5_000_000", "invalid"),  # larger than max_reply_bytes: the run is stopped, nothing is parsed
        ("__import__('functools').reduce(lambda a, _: [a], range(5000), [])", "wrong"),  # nested past the depth
        ("float('nan')", "wrong"),  # NaN equals nothing
        ("10 ** 100_000", "wrong"),  # a huge number travels (hexadecimal) and compares unequal
        ("iter(int, 1)", "wrong"),  # an endless iterator: drained inside the sandbox up to the format's item cap
        ("__import__('os')._exit(0)", "wrong"),  # gone mid-call
    ],
)
def test_what_the_judge_does_with_strange_answers(step, answer, reason):
    reward, info = step(HUMANEVAL, 0, f"def has_close_elements(numbers, threshold):\n    return {answer}\n")
    assert reward == 0.0 and info["reason"] == reason, info
    # ... and the next attempt is graded as usual (the judge that saw it is fine or was replaced).
    solution = humaneval_problems()[0].metadata["canonical_solution"]
    assert step(HUMANEVAL, 0, str(solution))[0] == 1.0
