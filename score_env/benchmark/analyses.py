"""The paper's two analyses (inference-compute scaling, distribution shift; docs/paper.md, "Metrics"), the
compute-matched baselines (pass@2, majority@2) and the base model's correction ceiling.

The analyses that play episodes do it with the one evaluation loop (``evaluate_policy``), in their own run
directories, so an interrupted analysis continues where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations
from math import comb
from pathlib import Path

import gymnasium as gym

from score_env.benchmark.results import ScalingCurve
from score_env.correction import replay
from score_env.evaluation import evaluate_policy
from score_env.layout import ScalingLayout
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
    layout = ScalingLayout(run_dir)
    two = evaluate_policy(policy, lambda: make_env(2), problems, seed=seed, run_dir=layout.two.root, **play).episodes
    one = evaluate_policy(
        policy, lambda: make_env(1), problems, seed=seed + 1, run_dir=layout.one.root, **play
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


def pass_at_2(episodes: Sequence[Episode]) -> float:
    """P(at least one of two independent first attempts is right), the unbiased estimate from n >= 2 samples per
    problem (Chen et al., 2021): 1 - C(n - c, 2) / C(n, 2), averaged over problems."""
    per_problem = []
    for attempts in _first_attempts_by_problem(episodes):
        n, c = len(attempts), sum(a.grade.correct for a in attempts)
        per_problem.append(1 - comb(n - c, 2) / comb(n, 2))
    return sum(per_problem) / len(per_problem)


def majority_at_2(episodes: Sequence[Episode]) -> float:
    """A majority vote over two independent first attempts, averaged over every pair of samples of a problem: both
    agree (or one is unparsable) -> that answer; two different answers -> a tie, counted as half right."""
    per_problem = []
    for attempts in _first_attempts_by_problem(episodes):
        votes = [_vote(a, b) for a, b in combinations(attempts, 2)]
        per_problem.append(sum(votes) / len(votes))
    return sum(per_problem) / len(per_problem)


def _vote(a: Attempt, b: Attempt) -> float:
    if a.grade.extracted is None or b.grade.extracted is None or a.grade.extracted == b.grade.extracted:
        return float(majority_correct([a, b]))
    return (a.grade.correct + b.grade.correct) / 2


def _first_attempts_by_problem(episodes: Sequence[Episode]) -> list[list[Attempt]]:
    groups: dict[int, list[Attempt]] = {}
    for e in episodes:
        groups.setdefault(e.problem_index, []).append(e.attempts[0])
    if any(len(g) < 2 for g in groups.values()):
        raise ValueError("pass@2 and majority@2 need at least 2 samples per problem")
    return list(groups.values())


def correction_ceiling(
    policy: Policy,
    episodes: Sequence[Episode],
    make_env: Callable[[int], gym.Env],
    *,
    samples: int,
    sampling: SamplingParams,
    seed: int,
    run_dir: Path,
) -> float:
    """The share of problems wrong at attempt 1 whose attempt 2, sampled ``samples`` times after that very attempt
    1, is right at least once: whether correcting is possible for the model at all."""
    wrong = [e for e in episodes if not e.attempts[0].grade.correct]
    if not wrong:
        return 0.0
    retried = evaluate_policy(
        policy,
        lambda: make_env(2),
        sorted({e.problem_index for e in wrong}),
        sampling=sampling,
        seed=seed,
        samples=samples,
        run_dir=run_dir,
        first_attempt_policy=replay([e.attempts[0] for e in wrong]),
        label="ceiling",
    ).episodes
    fixed = {e.problem_index for e in retried if e.attempts[1].grade.correct}
    return len(fixed) / len({e.problem_index for e in wrong})
