"""The Python API: the jobs of the ``score-env`` command as functions, for notebooks and scripts.

Each takes the same keys as the command line, as keyword arguments with Python values, or a validated config::

    from score_env import api

    result = api.evaluate(agent="prompting", env="arithmetic", model="embedded", limit=20)
    print(result.report.estimates["delta"])
    run = api.train(agent="score", env="arithmetic", model="embedded", run_dir="runs/score")
    outcomes = api.benchmark(config="benchmark_quick", report_dir="runs/quick").outcomes

A mistake raises :class:`~score_env.config.ConfigError` (what the command line prints as one line, exit 2) before
any model is loaded. This module is the one place that wires the core to ``envs`` and ``agents``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from rich.console import Console

from score_env import envs as _envs  # noqa: F401  (registers the task envs)
from score_env.assets import resolve_model
from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.benchmark.sweep import SweepResult
from score_env.benchmark_wiring import benchmark_wiring
from score_env.config import (
    BenchmarkConfig,
    ConfigError,
    EvalConfig,
    PretrainConfig,
    TinyModelConfig,
    TrainConfig,
    build_agent,
)
from score_env.config.benchmark import SweepConfig
from score_env.config.load import load_config
from score_env.correction import CorrectionRates, correct_fixed, recorded_first_attempts
from score_env.evaluation import Evaluation, evaluate_policy
from score_env.layout import EvalLayout
from score_env.policies import Policy
from score_env.preflight import check_env_choice, env_factory, import_tasks
from score_env.records import Attempt
from score_env.registry import EnvFactory
from score_env.runs import continued_by, default_run_dir, open_run_dir, run_lock, write_atomic
from score_env.training.checkpoint import checkpoint_path, is_training_run
from score_env.training.run import TrainedRun, check_resumable, train_agent


@dataclass(frozen=True)
class EvalResult:
    """What ``evaluate`` did: where it wrote, what model it evaluated, and the episodes with their metrics."""

    run_dir: Path
    model: str  # the path evaluated (for a training run: the checkpoint's model directory)
    evaluation: Evaluation
    correction: CorrectionRates | None = None  # with first_attempts=: the fix and break rates on them

    @property
    def report(self):
        return self.evaluation.report


@dataclass(frozen=True)
class BenchmarkResult:
    report_dir: Path
    outcomes: tuple[MethodResult | MethodFailure, ...]
    plots: tuple[Path, ...]


CORRECTION_JSON: TypeAdapter[CorrectionRates] = TypeAdapter(CorrectionRates)


def evaluate(config: EvalConfig | None = None, /, **values: Any) -> EvalResult:
    """``score-env eval``: play the env with the agent's policy on the first ``limit`` problems; resumable."""
    config = config or load_config(EvalConfig, "eval", values=values)
    import_tasks(config.imports)
    env_id, short = check_env_choice(config.env, config.split, config.model, config.policy)
    episode = config.episode()
    env = env_factory(env_id, config.split, episode.feedback, config.env_kwargs, episode.stop)
    config = config.model_copy(update={"env_kwargs": dict(env.kwargs)})  # with the resolved sandbox, if any
    with env.open() as envs:  # the run's task (its grader, sandbox, judges): closed when the evaluation ends
        return _evaluate(config, envs, short)


def _evaluate(config: EvalConfig, env: EnvFactory, short: str) -> EvalResult:
    run_dir = Path(config.run_dir) if config.run_dir else default_run_dir("eval", short, config.agent.kind)
    with run_lock(run_dir):
        return _evaluate_in(config, env, run_dir)


def _evaluate_in(config: EvalConfig, env: EnvFactory, run_dir: Path) -> EvalResult:
    model = resolve_model(config.model)
    if config.agent.trains and not is_training_run(Path(model)):
        raise ConfigError(
            f"agent={config.agent.kind} evaluates a model that agent trained: model= a training run directory "
            f"(score-env train ...); {config.model!r} is not one. To evaluate it as it is, use agent=prompting"
        )
    fixed = _recorded_first_attempts(config, env)  # a bad first_attempts= fails here, before the model loads
    open_run_dir(
        run_dir, config.model_dump(mode="json", by_alias=True)
    )  # a mismatch fails here, before the model loads
    print(f"run directory: {run_dir}", file=sys.stderr)
    if is_training_run(Path(model)):  # a trained run directory: its best (or last) checkpoint, recorded
        checkpoint = checkpoint_path(Path(model), config.checkpoint)
        model = str(checkpoint / "model")
        write_atomic(EvalLayout(run_dir).model, json.dumps({"run": config.model, "checkpoint": checkpoint.name}) + "\n")
    agent = build_agent(config.agent, config.policy.load(model))
    problems = list(range(min(config.limit or env.n_problems, env.n_problems)))
    with continued_by("run_dir", run_dir):
        result = _play(config, agent.policy, env, problems, fixed, run_dir, model)
    if (usage := getattr(agent.policy, "usage", None)) is not None:  # a served model's tokens and requests
        write_atomic(EvalLayout(run_dir).usage, json.dumps(usage.as_dict()) + "\n")
    return result


def _play(
    config: EvalConfig,
    policy: Policy,
    env: EnvFactory,
    problems: list[int],
    fixed: dict[int, Attempt] | None,
    run_dir: Path,
    model: str,
) -> EvalResult:
    episode = config.episode()
    if fixed is not None:
        return _evaluate_on_recorded(config, policy, env, problems, fixed, run_dir, model)
    evaluation = evaluate_policy(
        policy,
        partial(env, episode.max_attempts),
        problems,
        attempts=episode.max_attempts,
        sampling=config.sampling.params(),
        seed=config.seed,
        samples=config.samples,
        run_dir=run_dir,
        problems_per_batch=config.problems_per_batch,
        grading_threads=config.grading_threads,
        bootstrap=config.bootstrap,
    )
    return EvalResult(run_dir, model, evaluation)


def _recorded_first_attempts(config: EvalConfig, env: EnvFactory) -> dict[int, Attempt] | None:
    if config.first_attempts is None:
        return None
    if config.episode().max_attempts != 2 or config.episode().stop != "fixed":
        raise ConfigError(
            f"first_attempts= plays one second attempt after each recorded first attempt; it needs max_attempts=2 and "
            f"stop=fixed, got max_attempts={config.episode().max_attempts}, stop={config.episode().stop}"
        )
    made = env(2)
    try:
        prompts = [made.unwrapped.task.first_prompt(p)[-1].content for p in made.unwrapped.task.problems]
    finally:
        made.close()
    try:
        recorded = recorded_first_attempts(Path(config.first_attempts), prompts)
    except ValueError as error:
        raise ConfigError(f"first_attempts={config.first_attempts}: {error}") from None
    limit = min(config.limit or len(prompts), len(prompts))
    if not any(p < limit for p in recorded):
        raise ConfigError(
            f"first_attempts={config.first_attempts}: none of its {len(recorded)} recorded problems (from "
            f"{min(recorded)}) is among the first limit={limit}; raise limit or leave it out"
        )
    return recorded


def _evaluate_on_recorded(
    config: EvalConfig, policy: Policy, env: EnvFactory, problems: list[int], fixed: dict[int, Attempt],
    run_dir: Path, model: str,
) -> EvalResult:  # fmt: skip
    """Second attempts of ``policy`` after recorded first attempts, with its own first attempts (the control)."""
    problems = [p for p in problems if p in fixed]
    sampling = config.sampling.params()
    play = dict(sampling=sampling, seed=config.seed, samples=config.samples, bootstrap=config.bootstrap)
    own = evaluate_policy(
        policy, partial(env, 1), problems, run_dir=EvalLayout(run_dir).own_first.root, label="own t1", **play
    )
    on_fixed = correct_fixed(
        policy,
        env,
        {p: fixed[p] for p in problems},
        own.episodes,
        run_dir=run_dir,
        **play,  # type: ignore[arg-type]
    )
    write_atomic(EvalLayout(run_dir).correction, CORRECTION_JSON.dump_json(on_fixed.rates, indent=2).decode() + "\n")
    return EvalResult(run_dir, model, Evaluation(on_fixed.episodes, on_fixed.report), on_fixed.rates)


def train(config: TrainConfig | None = None, /, **values: Any) -> TrainedRun:
    """``score-env train``: train an agent on the env's training split; ``resume=<run dir>`` continues a run."""
    config = config or load_config(TrainConfig, "train", values=values)
    import_tasks(config.imports)
    env_id, short = check_env_choice(config.env, config.split, config.model)
    env = env_factory(env_id, config.split, "intrinsic", config.env_kwargs)
    config = config.model_copy(update={"env_kwargs": dict(env.kwargs)})  # with the resolved sandbox, if any
    run_dir = Path(config.resume or config.run_dir or default_run_dir("train", short, config.agent.kind))
    check_resumable(config, run_dir)
    with run_lock(run_dir), env.open() as envs:  # the run's task: closed when training ends
        return train_agent(config, envs, run_dir)


def benchmark(
    config: BenchmarkConfig | None = None, /, console: Console | None = None, **values: Any
) -> BenchmarkResult:
    """``score-env benchmark``: every method of ``methods``, for every seed, on one budget and protocol; resumable."""
    from score_env.benchmark.run import run_benchmark
    from score_env.report import write_benchmark_report

    config = config or load_config(BenchmarkConfig, "benchmark", values=values)
    wiring, short = benchmark_wiring(config)
    config = config.model_copy(update={"env_kwargs": dict(wiring.train_env.kwargs)})  # the resolved sandbox, if any
    report_dir = Path(config.report_dir) if config.report_dir else default_run_dir("benchmark", short)
    print(f"report directory: {report_dir}", file=sys.stderr)
    with run_lock(report_dir), continued_by("report_dir", report_dir):
        outcomes = run_benchmark(config, wiring, report_dir, console or Console())
    plots = write_benchmark_report(report_dir, config, outcomes)
    return BenchmarkResult(report_dir, outcomes, tuple(plots))


def sweep(config: SweepConfig | None = None, /, console: Console | None = None, **values: Any) -> SweepResult:
    """``score-env sweep``: each trained method's learning rate from a grid, on the benchmark's validation problems."""
    from score_env.benchmark.sweep import run_sweep

    config = config or load_config(SweepConfig, "sweep", values=values)
    bench = load_config(BenchmarkConfig, "benchmark", [f"config={config.benchmark}"])
    wiring, short = benchmark_wiring(bench)
    sweep_dir = Path(config.report_dir) if config.report_dir else default_run_dir("sweep", short)
    with continued_by("report_dir", sweep_dir):
        return run_sweep(bench, list(config.grid), wiring, sweep_dir, console or Console())


def pretrain(config: PretrainConfig | None = None, /, **values: Any) -> list[float]:
    """``score-env pretrain``: the embedded base model from scratch; returns the training losses."""
    from score_env.envs.arithmetic_corpus import pretraining_corpus
    from score_env.pretrain import pretrain as pretrain_model

    config = config or load_config(PretrainConfig, "pretrain", values=values)
    corpus = pretraining_corpus(config.conversations, seed=config.seed)
    return pretrain_model(
        corpus,
        Path(config.out),
        hidden_size=config.hidden_size,
        layers=config.layers,
        heads=config.heads,
        epochs=config.epochs,
        batch_tokens=config.batch_tokens,
        lr=config.lr,
        seed=config.seed,
    )


def tiny_model(config: TinyModelConfig | None = None, /, **values: Any) -> Path:
    """``score-env tiny-model``: a tiny random model with a tokenizer trained on an env's prompts (offline)."""
    from score_env.tiny_model import save_tiny_model

    config = config or load_config(TinyModelConfig, "tiny_model", values=values)
    env_id, _ = check_env_choice(config.env, "train")
    with env_factory(env_id, "train", "intrinsic", {}).open() as envs:
        task = envs(2).task
    corpus = [m.content for p in task.problems[:2000] for m in task.first_prompt(p)]
    corpus += [p.reference for p in task.problems[:2000]] + [task.correction_instruction]
    return save_tiny_model(
        Path(config.out),
        corpus,
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        layers=config.layers,
        seed=config.seed,
    )
