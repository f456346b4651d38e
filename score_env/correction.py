"""Correction on fixed first attempts: every model corrects the *same* first attempts (the base model's greedy ones
in the benchmark, or those recorded in any run with ``score-env eval first_attempts=<run dir>``), so its fix and
break rates measure correction alone, whatever its own first attempts became (Cobalt, arXiv 2602.03806, caches each
problem's first attempt for the same reason).

- fix rate: attempt 2 right, given a fixed first attempt that was wrong;
- break rate: attempt 2 wrong, given a fixed first attempt that was right;
- re-solve control: the model's own fresh first attempt on the problems whose fixed first attempt was wrong: what
  solving again from scratch reaches there. ``fix - control`` > 0 means attempt 2 gains from reading attempt 1.

Intervals are percentile bootstraps over problems (the samples of one problem are not independent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from score_env.evaluation import evaluate_policy
from score_env.layout import EvalLayout
from score_env.metrics import Estimate, SelfCorrectionReport
from score_env.policies import Policy, SamplingParams
from score_env.records import Attempt, Completion, Conversation, Episode
from score_env.runs import read_episodes


@dataclass(frozen=True)
class Replay:
    """A policy that answers a first prompt with a recorded attempt: to sample second attempts after a fixed first."""

    answers: Mapping[str, Completion]  # the first prompt's last message -> the recorded attempt

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        return [[self.answers[c[-1].content]] * params.n for c in conversations]


def replay(attempts: Sequence[Attempt]) -> Replay:
    """A :class:`Replay` of recorded first attempts (keyed by their prompts)."""
    return Replay({a.prompt[-1].content: _completion(a) for a in attempts})


def first_attempts(episodes: Sequence[Episode]) -> dict[int, Attempt]:
    """Attempt 1 of each problem's first sample, by problem index: the first attempts a run recorded."""
    chosen: dict[int, Attempt] = {}
    for e in sorted(episodes, key=lambda e: (e.problem_index, e.sample)):
        chosen.setdefault(e.problem_index, e.attempts[0])
    return chosen


@dataclass(frozen=True)
class CorrectionRates:
    """Attempt 2 on fixed first attempts, and the per-problem outcomes behind it (for paired tests)."""

    fix: Estimate | None  # P(right at t2 | fixed t1 wrong); None when no fixed first attempt was wrong
    broken: Estimate | None  # P(wrong at t2 | fixed t1 right); None when none was right
    control: Estimate | None  # the model's own fresh t1 accuracy on the fixed-wrong problems
    fix_minus_control: Estimate | None
    problems: tuple[int, ...]  # problem indices, in order
    first_right: tuple[bool, ...]  # [P] the fixed first attempt was right
    second_right: tuple[float, ...]  # [P] attempt 2 right, mean over samples
    own_first_right: tuple[float, ...]  # [P] the model's own first attempt right, mean over samples
    cut: float  # share of the model's attempts after the replayed one cut at max_new_tokens
    samples: int

    def by_key(self) -> dict[str, Estimate | None]:
        """The rates under their keys in the metric catalogue (``FIXED``), in its order."""
        return {
            "fix": self.fix,
            "break": self.broken,
            "control": self.control,
            "fix_minus_control": self.fix_minus_control,
        }

    @property
    def n_wrong(self) -> int:
        return len(self.first_right) - sum(self.first_right)

    @property
    def n_right(self) -> int:
        return sum(self.first_right)


@dataclass(frozen=True)
class FixedEvaluation:
    episodes: tuple[Episode, ...]  # attempt 1 replayed, attempt 2 the model's
    report: SelfCorrectionReport  # the usual metrics of those episodes (Acc@t1 is the recorded attempts')
    rates: CorrectionRates


def correct_fixed(
    policy: Policy,
    make_env: Callable[[int], gym.Env],
    fixed: Mapping[int, Attempt],
    own: Sequence[Episode],
    *,
    sampling: SamplingParams,
    seed: int,
    samples: int = 1,
    run_dir: Path | None = None,
    bootstrap: int = 1000,
    label: str = "fixed t1",
) -> FixedEvaluation:
    """Play attempt 2 of ``policy`` after each fixed first attempt (``samples`` times each) and compare it with the
    model's ``own`` episodes (its own fresh first attempts on the same problems) for the re-solve control."""
    problems = sorted(fixed)
    evaluation = evaluate_policy(
        policy, lambda: make_env(2), problems, sampling=sampling, seed=seed, samples=samples, run_dir=run_dir,
        first_attempt_policy=replay([fixed[p] for p in problems]), attempts=2, bootstrap=bootstrap, label=label,
    )  # fmt: skip
    rates = correction_rates(evaluation.episodes, own, bootstrap, seed)
    return FixedEvaluation(evaluation.episodes, evaluation.report, rates)


def recorded_first_attempts(run_dir: Path, first_prompts: Sequence[str]) -> dict[int, Attempt]:
    """The first attempts recorded in ``run_dir/episodes.jsonl`` (an eval run, or a benchmark's ``first-attempts/``
    or ``seed-<s>/<method>/eval/``), each checked to answer this env's prompt of its problem (``first_prompts``: the
    last message of each problem's first prompt, by index). Raises ValueError naming what is wrong."""
    path = EvalLayout(run_dir).episodes
    if not path.is_file():
        raise ValueError(
            f"no {path.name} in {str(run_dir)!r}: give an eval run directory, or a benchmark report's first-attempts/ "
            "or seed-<s>/<method>/eval/ directory"
        )
    recorded = first_attempts(read_episodes(path))
    if not recorded:
        raise ValueError(f"{str(path)!r} holds no episodes")
    for index, attempt in sorted(recorded.items()):
        asked = attempt.prompt[-1].content if attempt.prompt else ""
        expected = first_prompts[index] if index < len(first_prompts) else None
        if asked != expected:
            raise ValueError(
                f"{str(run_dir)!r} was recorded on other problems: its problem {index} asked {asked[:80]!r}, this "
                f"env's asks {(expected or '(no such problem)')[:80]!r}; use the env, split and env_kwargs it was "
                "recorded with"
            )
    return recorded


def correction_rates(
    on_fixed: Sequence[Episode], own: Sequence[Episode], n_bootstrap: int = 1000, seed: int = 0
) -> CorrectionRates:
    """Fix and break rates of ``on_fixed`` (episodes whose attempt 1 was replayed), with the re-solve control from
    ``own`` (the model's own episodes on the same problems)."""
    second = mean_per_problem(on_fixed, [e.attempts[-1].grade.correct for e in on_fixed])
    first = {p: bool(v) for p, v in mean_per_problem(on_fixed, [e.attempts[0].grade.correct for e in on_fixed]).items()}
    mine = mean_per_problem(own, [e.attempts[0].grade.correct for e in own])
    problems = tuple(sorted(second))
    missing = [p for p in problems if p not in mine]
    if missing:
        raise ValueError(f"the model's own episodes miss {len(missing)} problems of the fixed ones, e.g. {missing[0]}")
    wrong = np.array([not first[p] for p in problems])
    t2 = np.array([second[p] for p in problems])
    t1_own = np.array([mine[p] for p in problems])
    rng = np.random.default_rng(seed)
    fix = _bootstrap_mean(t2[wrong], n_bootstrap, rng)
    broken = _bootstrap_mean(1.0 - t2[~wrong], n_bootstrap, rng)
    control = _bootstrap_mean(t1_own[wrong], n_bootstrap, rng)
    gain = _bootstrap_mean(t2[wrong] - t1_own[wrong], n_bootstrap, rng)
    seconds = [a for e in on_fixed for a in e.attempts[1:]]  # the model's own attempts (not the replayed first)
    cut = sum(a.finish_reason == "length" for a in seconds) / max(len(seconds), 1)
    samples = max(e.sample for e in on_fixed) + 1 if on_fixed else 1
    return CorrectionRates(
        fix, broken, control, gain, problems, tuple(bool(first[p]) for p in problems), tuple(t2.tolist()),
        tuple(t1_own.tolist()), cut, samples,
    )  # fmt: skip


def mean_per_problem(episodes: Sequence[Episode], values: Sequence[float]) -> dict[int, float]:
    """``values`` (one per episode) averaged over each problem's samples, by problem index."""
    totals: dict[int, list[float]] = {}
    for e, value in zip(episodes, values, strict=True):
        totals.setdefault(e.problem_index, []).append(float(value))
    return {p: sum(v) / len(v) for p, v in totals.items()}


def _bootstrap_mean(values: np.ndarray, n: int, rng: np.random.Generator) -> Estimate | None:
    """The mean with a percentile 95% interval over resampled problems (None when there are none)."""
    if values.size == 0:
        return None
    means = values[rng.integers(0, values.size, size=(n, values.size))].mean(axis=1)
    return Estimate(float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def _completion(attempt: Attempt) -> Completion:
    return Completion(attempt.text, attempt.token_ids, attempt.logprobs, attempt.finish_reason, attempt.prompt_ids)
