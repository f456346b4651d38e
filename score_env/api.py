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

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from score_env import agents
from score_env import envs as _envs  # noqa: F401  (registers the task envs)
from score_env.assets import resolve_model
from score_env.benchmark.results import MethodFailure, MethodResult
from score_env.config import BenchmarkConfig, ConfigError, EvalConfig, PretrainConfig, TinyModelConfig, TrainConfig
from score_env.config.load import load_agent_config, load_config
from score_env.evaluation import Evaluation, evaluate_policy
from score_env.registry import EnvFactory, UnknownNameError, resolve_env
from score_env.runs import default_run_dir, open_run_dir
from score_env.training.checkpoint import checkpoint_path, is_training_run
from score_env.training.run import TrainedRun, check_resumable, train_agent


@dataclass(frozen=True)
class EvalResult:
    """What ``evaluate`` did: where it wrote, what model it evaluated, and the episodes with their metrics."""

    run_dir: Path
    model: str  # the path evaluated (for a training run: the checkpoint's model directory)
    evaluation: Evaluation

    @property
    def report(self):
        return self.evaluation.report


@dataclass(frozen=True)
class BenchmarkResult:
    report_dir: Path
    outcomes: tuple[MethodResult | MethodFailure, ...]
    plots: tuple[Path, ...]


def evaluate(config: EvalConfig | None = None, /, **values: Any) -> EvalResult:
    """``score-env eval``: play the env with the agent's policy on the first ``limit`` problems; resumable."""
    config = config or load_config(EvalConfig, "eval", values=values)
    env_id, short = check_env_choice(config.env, config.split, config.model)
    env = env_factory(env_id, config.split, config.feedback, config.env_kwargs)
    run_dir = Path(config.run_dir) if config.run_dir else default_run_dir("eval", short, config.agent.kind)
    open_run_dir(run_dir, config.model_dump(mode="json"))  # a mismatch fails here, before the model loads
    model = resolve_model(config.model)
    if is_training_run(Path(model)):  # a trained run directory: its best (or last) checkpoint
        model = str(checkpoint_path(Path(model), config.checkpoint) / "model")
    agent = agents.build_agent(config.agent, config.policy.load(model))
    evaluation = evaluate_policy(
        agent.policy,
        partial(env, config.max_attempts),
        list(range(min(config.limit or env.n_problems, env.n_problems))),
        sampling=config.sampling.params(),
        seed=config.seed,
        samples=config.samples,
        run_dir=run_dir,
        problems_per_batch=config.problems_per_batch,
        grading_threads=config.grading_threads,
        bootstrap=config.bootstrap,
    )
    return EvalResult(run_dir, model, evaluation)


def train(config: TrainConfig | None = None, /, **values: Any) -> TrainedRun:
    """``score-env train``: train an agent on the env's training split; ``resume=<run dir>`` continues a run."""
    config = config or load_config(TrainConfig, "train", values=values)
    env_id, short = check_env_choice(config.env, config.split, config.model)
    env = env_factory(env_id, config.split, "intrinsic", config.env_kwargs)
    run_dir = Path(config.resume or config.run_dir or default_run_dir("train", short, config.agent.kind))
    check_resumable(config, run_dir)
    return train_agent(config, agents.build_agent, env, run_dir)


def benchmark(
    config: BenchmarkConfig | None = None, /, console: Console | None = None, **values: Any
) -> BenchmarkResult:
    """``score-env benchmark``: every method of ``methods`` with the same budget, side by side; resumable."""
    from score_env.benchmark.run import Wiring, run_benchmark
    from score_env.report import write_benchmark_report

    config = config or load_config(BenchmarkConfig, "benchmark", values=values)
    train_id, short = check_env_choice(config.env, config.train_split, config.model)
    eval_id, _ = check_env_choice(config.eval_env or config.env, config.eval_split)
    agent_configs = {name: load_agent_config(name) for name in config.methods}  # unknown names fail here
    if config.methods[0] != "prompting":
        raise ConfigError(f"methods must start with prompting (the base model), got {config.methods}")
    wiring = Wiring(
        train_env=env_factory(train_id, config.train_split, "intrinsic", config.env_kwargs),
        eval_env=env_factory(eval_id, config.eval_split, "intrinsic", config.env_kwargs),
        agent_config=agent_configs.__getitem__,
        build_agent=agents.build_agent,
    )
    report_dir = Path(config.report_dir) if config.report_dir else default_run_dir("benchmark", short)
    outcomes = run_benchmark(config, wiring, report_dir, console or Console())
    plots = write_benchmark_report(report_dir, outcomes)
    return BenchmarkResult(report_dir, outcomes, tuple(plots))


def pretrain(config: PretrainConfig | None = None, /, **values: Any) -> list[float]:
    """``score-env pretrain``: the embedded base model from scratch; returns the training losses."""
    from score_env.envs.arithmetic_corpus import pretraining_corpus
    from score_env.pretrain import pretrain as pretrain_model

    config = config or load_config(PretrainConfig, "pretrain", values=values)
    corpus = pretraining_corpus(config.conversations, slip=config.slip, seed=config.seed)
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
    task = env_factory(env_id, "train", "intrinsic", {})(2).unwrapped.task
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


def check_env_choice(env: str, split: str, model: str | None = None) -> tuple[str, str]:
    """Resolve the env name and check the split (and a local model path) before anything is loaded."""
    try:
        spec = resolve_env(env)
    except UnknownNameError as exc:
        raise ConfigError(f"env={env!r}: {exc}") from None
    if split not in spec.splits:
        raise ConfigError(f"split={split!r} is not a split of {spec.env_id}. Allowed: {', '.join(spec.splits)}.")
    path = resolve_model(model) if model is not None else None
    if path is not None and _looks_local(path) and not Path(path).expanduser().exists():
        raise ConfigError(f"model={model!r}: no such directory (a local path, or a hub name such as org/name)")
    return spec.env_id, spec.short_name


def env_factory(env_id: str, split: str, feedback: Any, env_kwargs: dict) -> EnvFactory:
    """An env factory whose arguments are checked now (the task is built once), before any model loads."""
    factory = EnvFactory(env_id, split, feedback, env_kwargs)
    try:
        factory.n_problems  # noqa: B018  (builds the task: bad env_kwargs fail here)
    except TypeError as exc:
        raise ConfigError(f"env_kwargs: {exc}") from None
    return factory


def _looks_local(model: str) -> bool:
    return model.startswith((".", "/", "~")) or model.count("/") > 1
