"""Run the benchmark: every method of ``methods``, for every seed of ``seeds``, under one protocol.

The loop knows no method's internals: each agent config maps the budget onto its own keys, and every method goes
through the same training setup and the same evaluation (``benchmark.method``). Outcomes are written as they
finish (``seed-<s>/<method>/result.json``); a rerun with the same report directory keeps them.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from rich.console import Console

from score_env.assets import resolve_model
from score_env.benchmark.method import BaseAttempts, Outcome, Wiring
from score_env.benchmark.workers import Run, run_all
from score_env.config import BenchmarkConfig
from score_env.correction import first_attempts
from score_env.evaluation import evaluate_policy
from score_env.layout import BenchmarkLayout
from score_env.policies import Policy, SamplingParams
from score_env.profile import phase, since, snapshot, to_json
from score_env.records import Attempt
from score_env.registry import EnvFactory
from score_env.runs import open_run_dir, write_atomic

MAY_CHANGE = frozenset({"workers", "grading_threads", "policy.reuse_cache"})  # how a rerun runs, not what it computes


def run_benchmark(config: BenchmarkConfig, wiring: Wiring, report_dir: Path, console: Console) -> tuple[Outcome, ...]:
    open_run_dir(report_dir, config.model_dump(mode="json", by_alias=True, exclude={"report_dir"}), MAY_CHANGE)
    layout = BenchmarkLayout(report_dir)
    problems = evaluated_problems(config, wiring)
    n_train = wiring.train_env.n_problems
    start = n_train - config.validation_problems
    probed = list(range(start, start + min(config.probe_problems, config.validation_problems)))
    before = snapshot()
    with phase("base first attempts"):
        base = config.policy.load(resolve_model(config.model))
        test = base_first_attempts(config, base, wiring.eval_env, problems, layout.first_attempts.root)
        validation = base_first_attempts(config, base, wiring.train_env, probed, layout.validation_first_attempts.root)
        del base  # each method loads its own model
    layout.first_attempts.root.mkdir(exist_ok=True)
    write_atomic(layout.first_attempts.profile, json.dumps(to_json(since(before)), indent=1))
    fixed = BaseAttempts(test, validation)
    runs = [Run(seed, name, method_dir(report_dir, seed, name)) for seed in config.seeds for name in config.methods]
    return tuple(run_all(runs, config, wiring, problems, fixed, console))


def base_first_attempts(
    config: BenchmarkConfig, policy: Policy, env: EnvFactory, problems: list[int], run_dir: Path
) -> dict[int, Attempt]:
    """The base model's greedy first attempts on ``problems``: every method corrects these same ones (written to
    ``run_dir/episodes.jsonl``; ``score-env eval first_attempts=<run_dir>`` reuses them). None to play: none."""
    if not problems:
        return {}
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=config.eval_max_new_tokens)
    with env.open() as envs:  # this run's own task, closed when it is played
        evaluation = evaluate_policy(
            policy, partial(envs, 1), problems, sampling=greedy, seed=0, run_dir=run_dir, label="base t1", bootstrap=10
        )
    return first_attempts(evaluation.episodes)


def evaluated_problems(config: BenchmarkConfig, wiring: Wiring) -> list[int]:
    n = wiring.eval_env.n_problems
    return list(range(min(config.eval_problems or n, n)))


def method_dir(report_dir: Path, seed: int, name: str) -> Path:
    return BenchmarkLayout(report_dir).method(seed, name).root
