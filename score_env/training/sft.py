"""Supervised fine-tuning updates on (conversation → response tokens) examples: what Pair-SFT and STaR share."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from score_env.learner.batch import build_batch, token_logprobs
from score_env.learner.losses import sft_loss
from score_env.records import Conversation
from score_env.training.session import TrainingSession
from score_env.training.streams import data_order

Example = tuple[Conversation, Sequence[int]]


def sft_updates(
    session: TrainingSession,
    examples: Sequence[Example],
    *,
    batch_size: int,
    updates: int,
    first_step: int,
    stage: int,
    stage_name: str,
) -> int:
    """Make ``updates`` updates of ``batch_size`` examples, passing over ``examples`` reshuffled each pass; return
    the global step after them.

    Global steps ``first_step ...`` that ``session`` already did (a resumed run) are not run again
    (:meth:`TrainingSession.steps`), and the same examples meet the same weights in the same order as in an
    uninterrupted run.
    """
    if not examples:
        return first_step
    share = slice(session.accelerator.process_index, None, session.accelerator.num_processes)
    per_update = min(batch_size, len(examples))
    todo = session.steps(updates, first_step)
    # the examples of the updates a resumed run already made are drawn and dropped: the rest come in the same order
    order = itertools.islice(_passes(session, len(examples), first_step), (todo.start - first_step) * per_update, None)
    for _ in todo:
        minibatch = [examples[next(order)] for _ in range(per_update)]
        mine = minibatch[share] or minibatch[:1]  # every process must take part in each data-parallel update
        batch = build_batch(session.tokenizer, mine, session.policy.device)
        loss = sft_loss(token_logprobs(session.model, batch), batch.loss_mask)
        grad_norm = session.update(loss)
        metrics = {"loss": loss.item(), "grad_norm": grad_norm, "examples": float(len(examples))}
        session.end_step(stage, stage_name, metrics, reward=0.0)
    return first_step + updates


def epoch_updates(n_examples: int, batch_size: int, epochs: int) -> int:
    """Updates that ``epochs`` passes over ``n_examples`` take, ``batch_size`` at a time."""
    return epochs * -(-n_examples // batch_size) if n_examples else 0


def _passes(session: TrainingSession, n: int, first_step: int) -> Iterator[int]:
    """Example indices: pass after pass, each a fresh permutation seeded by the run seed and the pass number."""
    for number in range(1_000_000):
        yield from np.random.default_rng(session.step_seed(first_step, data_order(number))).permutation(n).tolist()
