"""The paper's two analyses: inference-compute scaling and distribution shift (PAPER.md, "Metrics")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import gymnasium as gym

from score_env.policies import Policy, SamplingParams
from score_env.records import Attempt, Episode
from score_env.rollout import collect_episodes


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
    temperature: float,
    max_new_tokens: int,
    seed: int,
) -> dict[str, list[float]]:
    """Accuracy at a budget of 2K samples per problem, K = 1, 2, 4, ... max_k.

    parallel: majority vote over 2K independent first attempts; sequential: K first attempts each followed by one
    correction, majority vote over the K corrected answers.
    """
    sampling = SamplingParams(temperature=temperature, max_new_tokens=max_new_tokens)
    two = collect_episodes(lambda: make_env(2), policy, problems, sampling, samples_per_problem=max_k, seed=seed)
    one = collect_episodes(lambda: make_env(1), policy, problems, sampling, samples_per_problem=max_k, seed=seed + 1)
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
    return {"k": [float(k) for k in ks], "parallel": parallel, "sequential": sequential}


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
    max_new_tokens: int,
    seed: int,
) -> dict[str, float]:
    """Correction rate on first attempts drawn from the base model (fixed) versus on the model's own."""
    greedy = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens)
    on_base = collect_episodes(lambda: make_env(2), policy, problems, greedy, seed=seed, first_attempt_policy=base)
    return {"own_first_attempts": correction_rate(own_episodes), "base_first_attempts": correction_rate(on_base)}
