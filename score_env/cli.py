"""The ``score-env`` command. The one place that wires the core to ``envs`` and ``agents``.

Usage::

    score-env envs
    score-env eval agent=prompting env=arithmetic model=<path> [key=value ...]
    score-env train agent=<sft|star|star_plus|score|score_...> env=arithmetic model=<path> [key=value ...]
    score-env benchmark [config=configs/benchmark_quick.yaml] [key=value ...]
    score-env pretrain out=<dir> [conversations=40000 epochs=2 seed=0 ...]
    score-env tiny-model out=<dir> [env=arithmetic vocab_size=512 hidden_size=64 layers=2 seed=0]
    score-env serve env=<name> [split=train port=8000 host=127.0.0.1 ...]   (an OpenEnv server; needs [openenv])
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import gymnasium as gym
from rich.console import Console

from score_env import (
    agents,
    envs,  # noqa: F401  (registers the task envs)
)
from score_env.assets import resolve_model
from score_env.config import ConfigError, EvalConfig, PolicyConfig, TrainConfig, load_config
from score_env.config.models import TinyModelConfig
from score_env.learner.checkpoint import checkpoint_path, is_training_run
from score_env.registry import UnknownNameError, make_env, registered_tasks, resolve_env

COMMANDS = ("envs", "eval", "train", "benchmark", "pretrain", "tiny-model", "serve")
USAGE = __doc__.split("Usage::", 1)[1].rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(f"usage:{USAGE}")
        return 0
    command, overrides = args[0], args[1:]
    try:
        match command:
            case "envs":
                return list_envs()
            case "eval":
                return run_eval(overrides)
            case "train":
                return run_train(overrides)
            case "benchmark":
                return run_benchmark_command(overrides)
            case "pretrain":
                return run_pretrain(overrides)
            case "tiny-model":
                return make_tiny_model(overrides)
            case "serve":
                return run_serve(overrides)
            case _:
                raise UnknownNameError("command", command, list(COMMANDS))
    except (ConfigError, UnknownNameError) as exc:
        print(f"score-env {command}: error: {exc}", file=sys.stderr)
        return 2


def list_envs() -> int:
    console = Console()
    for spec in registered_tasks():
        console.print(
            f"[bold]{spec.env_id}[/bold]  ({spec.short_name}; splits: {', '.join(spec.splits)})  {spec.description}"
        )
    return 0


def check_env_choice(env: str, split: str, model: str | None = None) -> tuple[str, str]:
    """Resolve the env name and check the split (and a local model path) before anything is loaded."""
    try:
        spec = resolve_env(env)
    except UnknownNameError as exc:
        raise ConfigError(f"env={env!r}: {exc}") from None
    if split not in spec.splits:
        raise ConfigError(f"split={split!r} is not a split of {spec.env_id}. Allowed: {', '.join(spec.splits)}.")
    if model is not None and _looks_local(model) and not Path(model).expanduser().exists():
        raise ConfigError(f"model={model!r}: no such directory (a local path, or a hub name such as org/name)")
    return spec.env_id, spec.short_name


def run_eval(overrides: Sequence[str]) -> int:
    from score_env.evaluation import evaluate
    from score_env.report import print_report
    from score_env.runs import default_run_dir

    config = load_config(EvalConfig, "eval", overrides)
    env_id, short = check_env_choice(config.env, config.split, resolve_model(config.model))
    make = _env_factory(env_id, config.split, config.feedback, config.env_kwargs)
    run_dir = Path(config.run_dir) if config.run_dir else default_run_dir("eval", short, config.agent.kind)
    model = resolve_model(config.model)
    if is_training_run(Path(model)):  # a trained run directory: its best (or last) checkpoint
        model = str(checkpoint_path(Path(model), config.checkpoint) / "model")
    policy = _policy(model, config.policy)
    agent = agents.build_agent(config.agent, policy)
    report = evaluate(config, agent, partial(make, config.max_attempts), run_dir)
    print_report(report, f"{config.agent.kind} on {env_id} ({config.split})")
    print(f"run directory: {run_dir}")
    return 0


def run_train(overrides: Sequence[str]) -> int:
    from score_env.runs import default_run_dir
    from score_env.training import add_lora, run_training

    config = load_config(TrainConfig, "train", overrides)
    model = resolve_model(config.model)
    env_id, short = check_env_choice(config.env, config.split, model)
    make = _env_factory(env_id, config.split, "intrinsic", config.env_kwargs)
    run_dir = Path(config.resume or config.run_dir or default_run_dir("train", short, config.agent.kind))
    policy = _policy(model, config.policy)
    if config.lora is not None:
        policy = add_lora(policy, config.lora)
    agent = agents.build_agent(config.agent, policy)
    session = run_training(config, agent, policy, make, run_dir)
    if session.accelerator.is_main_process:
        print(f"trained {session.step} updates; run directory: {run_dir}")
    return 0


def _policy(model: str, policy: PolicyConfig):
    from score_env.policies.factory import load_policy

    return load_policy(
        model, backend=policy.backend, device=policy.device, dtype=policy.dtype, batch_size=policy.batch_size
    )


def _env_factory(env_id: str, split: str, feedback: str, env_kwargs: dict) -> Callable[[int], gym.Env]:
    """``max_attempts -> env``; built once here so bad ``env_kwargs`` fail before any model loads."""

    def make(max_attempts: int) -> gym.Env:
        return gym.make(env_id, split=split, max_attempts=max_attempts, feedback=feedback, **env_kwargs)

    try:
        make(2).close()
    except TypeError as exc:
        raise ConfigError(f"env_kwargs: {exc}") from None
    return make


def run_benchmark_command(overrides: Sequence[str]) -> int:
    from score_env.benchmark.report import write_report
    from score_env.benchmark.run import Setup, run_benchmark
    from score_env.config.benchmark import BenchmarkConfig
    from score_env.config.load import load_agent_config
    from score_env.runs import default_run_dir

    config = load_config(BenchmarkConfig, "benchmark", overrides)
    model = resolve_model(config.model)
    train_id, short = check_env_choice(config.env, config.train_split, model)
    eval_id, _ = check_env_choice(config.eval_env or config.env, config.eval_split)
    agent_configs = {name: load_agent_config(name) for name in config.methods}  # unknown names fail here
    if config.methods[0] != "prompting":
        raise ConfigError(f"methods must start with prompting (the base model), got {config.methods}")
    setup = Setup(
        make_train_env=_env_factory(train_id, config.train_split, "intrinsic", config.env_kwargs),
        make_eval_env=_env_factory(eval_id, config.eval_split, "intrinsic", config.env_kwargs),
        agent_config=agent_configs.__getitem__,
        build_agent=agents.build_agent,
        model_path=model,
    )
    report_dir = Path(config.report_dir) if config.report_dir else default_run_dir("benchmark", short)
    console = Console()
    summary = run_benchmark(config, setup, report_dir, console)
    plots = write_report(report_dir, summary)
    console.print((report_dir / "results.md").read_text())
    console.print(f"report: {report_dir} ({', '.join(p.name for p in plots)})")
    return 0


def run_pretrain(overrides: Sequence[str]) -> int:
    from score_env.config.models import PretrainConfig
    from score_env.envs.arithmetic_corpus import pretraining_corpus
    from score_env.pretrain import pretrain

    config = load_config(PretrainConfig, "pretrain", overrides)
    corpus = pretraining_corpus(config.conversations, slip=config.slip, seed=config.seed)
    losses = pretrain(
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
    print(f"model written to {config.out}; final loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
    return 0


def make_tiny_model(overrides: Sequence[str]) -> int:
    """Build a tiny random model with a tokenizer trained on an env's prompts (offline)."""
    from score_env.tiny_model import save_tiny_model

    config = load_config(TinyModelConfig, "tiny_model", overrides)
    env_id, _ = check_env_choice(config.env, "train")
    task = make_env(_factory_of(env_id), split="train").task
    corpus = [m.content for p in task.problems[:2000] for m in task.first_prompt(p)]
    corpus += [p.reference for p in task.problems[:2000]] + [task.correction_instruction]
    out = save_tiny_model(
        Path(config.out),
        corpus,
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        layers=config.layers,
        seed=config.seed,
    )
    print(f"tiny model written to {out}")
    return 0


def run_serve(overrides: Sequence[str]) -> int:
    """Serve one env to OpenEnv clients; the server itself is ``score_env.adapters.openenv_server``."""
    from score_env.adapters.openenv_config import ServeConfig

    config = load_config(ServeConfig, "serve", overrides)
    env_id, _ = check_env_choice(config.env, config.split)
    _env_factory(env_id, config.split, "intrinsic", config.env_kwargs)  # bad env_kwargs fail here
    try:
        from score_env.adapters.openenv_server import serve
    except ModuleNotFoundError as exc:
        raise ConfigError(f"serve needs openenv-core ({exc}): pip install 'score-env[openenv]'") from None
    serve(config)
    return 0


def _factory_of(env_id: str):
    import gymnasium as gym

    return gym.spec(env_id).kwargs["make_task"]


def _looks_local(model: str) -> bool:
    return model.startswith((".", "/", "~")) or model.count("/") > 1


if __name__ == "__main__":
    sys.exit(main())
