"""Supervised fine-tuning on (conversation → response tokens) examples: the update Pair-SFT and STaR share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from score_env.learner.batch import build_batch, token_logprobs
from score_env.learner.losses import sft_loss
from score_env.learner.session import TrainingSession
from score_env.records import Conversation

Example = tuple[Conversation, Sequence[int]]


def sft_epochs(
    session: TrainingSession,
    examples: Sequence[Example],
    *,
    batch_size: int,
    epochs: int,
    first_step: int,
    stage: int,
    stage_name: str,
) -> int:
    """Train on ``examples`` for ``epochs``, ``batch_size`` at a time; return the step count after it.

    Global steps ``first_step ...`` that ``session`` already did (a resumed run) are skipped, so the same examples
    meet the same weights in the same order as in an uninterrupted run.
    """
    step = first_step
    if not examples:
        return step
    share = slice(session.accelerator.process_index, None, session.accelerator.num_processes)
    for epoch in range(epochs):
        order = np.random.default_rng(session.step_seed(first_step, stream=epoch + 2)).permutation(len(examples))
        for start in range(0, len(order), batch_size):
            step += 1
            if step <= session.step:
                continue
            minibatch = [examples[i] for i in order[start : start + batch_size]]
            mine = minibatch[share] or minibatch[:1]  # every process must take part in each data-parallel update
            batch = build_batch(session.tokenizer, mine, session.policy.device)
            loss = sft_loss(token_logprobs(session.model, batch), batch.loss_mask)
            session.update(loss)
            session.end_step(stage, stage_name, {"loss": loss.item(), "examples": float(len(examples))}, reward=0.0)
    return step


def steps_for(n_examples: int, batch_size: int, epochs: int) -> int:
    return epochs * -(-n_examples // batch_size) if n_examples else 0
