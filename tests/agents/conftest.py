"""A task a random tiny model gets right about half the time, so every agent has something to learn from."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from score_env.records import Grade, Problem
from score_env.registry import register_task
from score_env.task import PromptTask


def make_coin_task(split: str = "train") -> PromptTask:
    problems = [Problem(f"coin/{i}", f"Compute {i} + {i}.", str(2 * i)) for i in range(32)]
    return PromptTask(
        name="coin",
        problems=problems,
        render_prompt=lambda p: p.question,
        correction_instruction="There might be an error in the solution above. Please correct it.",
        # "Correct" when the response has an even number of characters: a coin flip for a random model.
        grade_response=lambda p, r: Grade.ok(str(len(r))) if len(r) % 2 == 0 else Grade.wrong(str(len(r))),
    )


register_task("score/CoinTest-v0", make_coin_task, short_name="coin-test", description="test-only coin flip task")

TINY_TRAIN = ["env=coin-test", "sampling.max_new_tokens=6", "problems_per_step=4", "samples=2", "grading_threads=2"]


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


@pytest.fixture
def changed():
    def check(before_dir, after_dir) -> bool:
        before, after = weights(before_dir), weights(after_dir)
        return any(not torch.equal(before[name], after[name]) for name in before)

    return check
