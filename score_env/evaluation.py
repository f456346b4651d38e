"""The one evaluation loop: ``score-env eval``, every benchmark method and the benchmark's analyses use it.

Problems are played in fixed batches (``problems_per_batch``); each batch's episodes are appended to the run
directory's ``episodes.jsonl`` before the next starts, so an interrupted evaluation keeps what it did and a rerun
continues with the first batch not yet complete (the same batches, the same seeds: the same episodes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import gymnasium as gym

from score_env.layout import EvalLayout
from score_env.metrics import SelfCorrectionReport, self_correction_metrics
from score_env.policies import Policy, SamplingParams
from score_env.records import Episode, flatten
from score_env.rollout import collect_episodes
from score_env.runs import append_episodes, progress_bar, read_episodes, write_episodes, write_metrics


@dataclass(frozen=True)
class Evaluation:
    """The episodes of an evaluation (problem by problem, the samples of a problem together) and their metrics."""

    episodes: tuple[Episode, ...]
    report: SelfCorrectionReport


def evaluate_policy(
    policy: Policy,
    make_env: Callable[[], gym.Env],
    problems: Sequence[int],
    *,
    sampling: SamplingParams,
    seed: int,
    samples: int = 1,
    run_dir: Path | None = None,
    problems_per_batch: int = 64,
    grading_threads: int = 8,
    bootstrap: int = 1000,
    first_attempt_policy: Policy | None = None,
    attempts: int = 1,
    label: str = "eval",
) -> Evaluation:
    """Play ``samples`` episodes of each of ``problems`` and measure them.

    Args:
        policy: what answers.
        make_env: builds one env (its ``max_attempts`` and feedback are the env's).
        problems: problem indices of the env's split.
        sampling: decoding settings (temperature 0 = greedy).
        seed: seeds the envs and the sampler; batch b samples with ``seed + b``.
        samples: episodes per problem.
        run_dir: where ``episodes.jsonl`` and ``metrics.json`` go (None = nothing written, nothing resumed).
        problems_per_batch: problems per rollout call and per write.
        grading_threads: attempts graded at once.
        bootstrap: resamples for the confidence intervals.
        first_attempt_policy: if given, attempt 1 comes from it (the base model, for the distribution-shift analysis).
        attempts: the most attempts an episode may have (Acc@t is reported up to it, even if every episode stopped
            earlier).
        label: the progress bar's.
    """
    batches = [list(problems[i : i + problems_per_batch]) for i in range(0, len(problems), problems_per_batch)]
    done = _complete_batches(run_dir, batches, samples)
    episodes = [e for b in done.values() for e in b]
    if run_dir is not None:  # without the episodes of a torn, incomplete batch: it is played again
        write_episodes(EvalLayout(run_dir).episodes, episodes)
    with progress_bar(total=len(problems), desc=label, unit="problem", leave=False) as bar:
        bar.update(sum(len(batches[b]) for b in done))
        for number, batch in enumerate(batches):
            if number in done:
                continue
            new = flatten(
                collect_episodes(
                    make_env,
                    policy,
                    batch,
                    replace(sampling, n=1),
                    samples_per_problem=samples,
                    seed=seed + number,
                    grading_threads=grading_threads,
                    first_attempt_policy=first_attempt_policy,
                )
            )
            if run_dir is not None:
                append_episodes(EvalLayout(run_dir).episodes, new)
            episodes += new
            bar.update(len(batch))
    order = {index: position for position, index in enumerate(problems)}
    episodes.sort(key=lambda e: (order[e.problem_index], e.sample))
    report = self_correction_metrics(episodes, attempts=attempts, n_bootstrap=bootstrap, seed=seed)
    if run_dir is not None:
        write_metrics(run_dir, report)
    return Evaluation(tuple(episodes), report)


def _complete_batches(run_dir: Path | None, batches: list[list[int]], samples: int) -> dict[int, list[Episode]]:
    """The batches whose every episode is already in ``run_dir`` (read once)."""
    if run_dir is None:
        return {}
    run_dir.mkdir(parents=True, exist_ok=True)
    by_key = {(e.problem_index, e.sample): e for e in read_episodes(EvalLayout(run_dir).episodes)}
    done = {}
    for number, batch in enumerate(batches):
        keys = [(p, s) for p in batch for s in range(samples)]
        if all(k in by_key for k in keys):
            done[number] = [by_key[k] for k in keys]
    return done
