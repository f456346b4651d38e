"""The paper's two analyses: inference-compute scaling and distribution shift (PAPER.md, "Metrics").

Both play episodes with the one evaluation loop (``evaluate_policy``), in their own run directories, so an interrupted
analysis continues where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import gymnasium as gym

from score_env.benchmark.results import ScalingCurve, ShiftRates
from score_env.evaluation import evaluate_policy
from score_env.policies import Policy, SamplingParams
from score_env.records import Attempt, Episode


def majority_correct(attempts: Sequence[Attempt]) -> bool:
    """Whether the most common extracted answer (unparsable ones do not vote) is a correct one."""
    votes = Counter(a.grade.extracted for a in attempts if a.grade.extracted is not None)
    if not votes:
        return False
    winner = votes.most_common(1)[0][0]
    return any(a.grade.correct for a in attempts if a.grade.extracted == winner)


def inference_scaling(
    policy: Policy,
    make_env: Callable[[int], gym.Env],
    problems: Sequence[int],
    *,
    max_k: int,
    sampling: SamplingParams,
    seed: int,
    run_dir: Path,
) -> ScalingCurve:
    """Accuracy at a budget of 2K samples per problem, K = 1, 2, 4, ... max_k.

    parallel: majority vote over 2K independent first attempts; sequential: K first attempts each followed by one
    correction, majority vote over the K corrected answers.
    """
    play = dict(sampling=sampling, samples=max_k, label="scaling")
    two = evaluate_policy(policy, lambda: make_env(2), problems, seed=seed, run_dir=run_dir / "two", **play).episodes
    one = evaluate_policy(
        policy, lambda: make_env(1), problems, seed=seed + 1, run_dir=run_dir / "one", **play
    ).episodes
    ks = [k for k in (1, 2, 4, 8, 16, 32, 64) if k <= max_k]
    parallel, sequential = [], []
    for k in ks:
        par = seq = 0
        for p in range(len(problems)):
            pairs, singles = two[p * max_k : (p + 1) * max_k], one[p * max_k : (p + 1) * max_k]
            firsts = [e.attempts[0] for e in pairs] + [e.attempts[0] for e in singles]
            par += majority_correct(firsts[:k] + firsts[max_k : max_k + k])
            seq += majority_correct([e.attempts[1] for e in pairs[:k]])
        parallel.append(par / len(problems))
        sequential.append(seq / len(problems))
    return ScalingCurve(tuple(ks), tuple(parallel), tuple(sequential))


def correction_rate(episodes: Sequence[Episode]) -> float:
    """P(correct at the last attempt | wrong at the first): how often a wrong first attempt gets fixed."""
    wrong = [e for e in episodes if not e.attempts[0].grade.correct]
    return sum(e.attempts[-1].grade.correct for e in wrong) / len(wrong) if wrong else 0.0


def distribution_shift(
    policy: Policy,
    base: Policy,
    own_episodes: Sequence[Episode],
    make_env: Callable[[int], gym.Env],
    problems: Sequence[int],
    *,
    sampling: SamplingParams,
    seed: int,
    run_dir: Path,
) -> ShiftRates:
    """Correction rate on first attempts drawn from the base model (fixed) versus on the model's own."""
    on_base = evaluate_policy(
        policy, lambda: make_env(2), problems, sampling=sampling, seed=seed, run_dir=run_dir, first_attempt_policy=base
    ).episodes
    return ShiftRates(correction_rate(own_episodes), correction_rate(on_base))
