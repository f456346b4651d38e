"""log π and KL of every turn of a batch of episodes, with no duplicate forward pass (shared by every RL loss)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from score_env.learner.batch import encode_attempt, length_buckets, pad_rows, token_logprobs
from score_env.learner.losses import KLEstimator, attempt_kl, sequence_logprob
from score_env.learner.reference import Reference
from score_env.records import Attempt

MAX_BUCKET_TOKENS = 16_384  # tokens (rows x padded length) per forward pass
FUSE_TURNS = True  # read earlier turns off the last turn's row when the tokens match (tests switch it off)


@dataclass(frozen=True)
class _Span:
    """Where turn ``turn`` of episode ``episode`` sits in a training row: its tokens are ids[start:end]."""

    episode: int
    turn: int
    start: int
    end: int


def turn_terms(
    model: Any,
    reference: Reference,
    tokenizer: Any,
    turns: Sequence[Sequence[Attempt]],
    estimator: KLEstimator,
) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    """log π(turn) and KL(turn) (scalars, with gradient) for every turn of every episode, ``[episode][turn]``.

    ``turns[i]`` are episode i's turns in the order they were given. The last turn's row (its prompt holds every
    earlier turn) also yields the earlier turns' log-probs whenever their tokens appear verbatim at the head of that
    row (re-tokenising the conversation reproduced the generated ids); only the other turns get a row of their own.
    Rows are packed into length buckets; the reference runs once per bucket, without gradient. A turn sampled from
    the base model (``from_base``) is context only: its log-prob and KL are 0, with no gradient.
    """
    device = next(model.parameters()).device
    rows, spans = _rows_and_spans(tokenizer, turns)
    logp = [[torch.zeros((), device=device)] * len(t) for t in turns]
    kl = [[torch.zeros((), device=device)] * len(t) for t in turns]
    for bucket in length_buckets([len(ids) for ids in rows], MAX_BUCKET_TOKENS):
        batch = pad_rows(tokenizer, [(rows[r], tuple((s.start, s.end) for s in spans[r])) for r in bucket], device)
        policy_logp = token_logprobs(model, batch)  # [b, T-1]
        reference_logp = reference.logprobs(batch)
        for position, row in enumerate(bucket):
            for span in spans[row]:
                if turns[span.episode][span.turn].from_base:
                    continue
                mask = torch.zeros_like(policy_logp[position])
                mask[span.start - 1 : span.end - 1] = 1.0  # predictions of ids[start:end]
                logp[span.episode][span.turn] = sequence_logprob(policy_logp[position], mask)
                kl[span.episode][span.turn] = attempt_kl(
                    policy_logp[position], reference_logp[position], mask, estimator
                )
    return logp, kl


def _rows_and_spans(tokenizer: Any, turns: Sequence[Sequence[Attempt]]) -> tuple[list[list[int]], list[list[_Span]]]:
    """The training rows (token ids) and, per row, the turns it holds (each row's loss covers its spans)."""
    rows: list[list[int]] = []
    spans: list[list[_Span]] = []
    for i, episode_turns in enumerate(turns):
        encoded = [encode_attempt(tokenizer, a) for a in episode_turns]
        last_ids, last_start = encoded[-1]
        row_spans = [_Span(i, len(encoded) - 1, last_start, len(last_ids))]
        for t, (ids, start) in enumerate(encoded[:-1]):
            if FUSE_TURNS and last_ids[: len(ids)] == ids:  # turn t sits verbatim at the head of the last row
                row_spans.append(_Span(i, t, start, len(ids)))
            else:
                rows.append(ids)
                spans.append([_Span(i, t, start, len(ids))])
        rows.append(last_ids)
        spans.append(row_spans)
    return rows, spans
