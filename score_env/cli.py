"""The ``score-env`` command: parse, call the Python API (``score_env.api``), print. Mistakes exit 2 with one line.

Usage::

    score-env envs
    score-env eval agent=prompting env=arithmetic model=<path> [key=value ...]
    score-env train agent=<sft|star|star_plus|score|score_...> env=arithmetic model=<path> [key=value ...]
    score-env benchmark [config=benchmark_quick] [key=value ...]
    score-env pretrain out=<dir> [conversations=40000 epochs=4 seed=0 ...]
    score-env tiny-model out=<dir> [env=arithmetic vocab_size=512 hidden_size=64 layers=2 seed=0]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console

from score_env.config import (
    BenchmarkConfig,
    ConfigError,
    EvalConfig,
    PretrainConfig,
    TinyModelConfig,
    TrainConfig,
    load_config,
)
from score_env.registry import UnknownNameError

COMMANDS = ("envs", "eval", "train", "benchmark", "pretrain", "tiny-model")
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
                return run_benchmark(overrides)
            case "pretrain":
                return run_pretrain(overrides)
            case "tiny-model":
                return run_tiny_model(overrides)
            case _:
                raise UnknownNameError("command", command, list(COMMANDS))
    except (ConfigError, UnknownNameError) as exc:
        print(f"score-env {command}: error: {exc}", file=sys.stderr)
        return 2


def list_envs() -> int:
    from score_env import api  # noqa: F401  (registers the task envs)
    from score_env.registry import registered_tasks

    console = Console()
    for spec in registered_tasks():
        console.print(
            f"[bold]{spec.env_id}[/bold]  ({spec.short_name}; splits: {', '.join(spec.splits)})  {spec.description}"
        )
    return 0


def run_eval(overrides: Sequence[str]) -> int:
    from score_env import api
    from score_env.report import print_report

    config = load_config(EvalConfig, "eval", overrides)
    result = api.evaluate(config)
    print_report(result.report, f"{config.agent.kind} on {config.env} ({config.split})")
    print(f"run directory: {result.run_dir}")
    return 0


def run_train(overrides: Sequence[str]) -> int:
    from score_env import api

    run = api.train(load_config(TrainConfig, "train", overrides))
    if run.session.accelerator.is_main_process:
        print(f"trained {run.updates} updates; run directory: {run.run_dir}")
    return 0


def run_benchmark(overrides: Sequence[str]) -> int:
    from score_env import api

    console = Console()
    result = api.benchmark(load_config(BenchmarkConfig, "benchmark", overrides), console=console)
    console.print((result.report_dir / "results.md").read_text())
    console.print(f"report: {result.report_dir} ({', '.join(p.name for p in result.plots)})")
    return 0


def run_pretrain(overrides: Sequence[str]) -> int:
    from score_env import api

    config = load_config(PretrainConfig, "pretrain", overrides)
    losses = api.pretrain(config)
    print(f"model written to {config.out}; final loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
    return 0


def run_tiny_model(overrides: Sequence[str]) -> int:
    from score_env import api

    print(f"tiny model written to {api.tiny_model(load_config(TinyModelConfig, 'tiny_model', overrides))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
