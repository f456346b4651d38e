"""The commands that run something (eval, train, benchmark, sweep, pretrain, tiny-model, serve): load the config,
call the Python API (``score_env.api``), print."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from score_env.config import (
    BenchmarkConfig,
    ConfigError,
    EvalConfig,
    PretrainConfig,
    TinyModelConfig,
    TrainConfig,
    ValidateConfig,
    load_config,
)
from score_env.layout import BenchmarkLayout


def run_eval(overrides: Sequence[str]) -> int:
    from score_env import api
    from score_env.metric_catalogue import metric
    from score_env.report import print_report

    config = load_config(EvalConfig, "eval", overrides)
    result = api.evaluate(config)
    print_report(result.report, f"{config.agent.kind} on {config.env} ({config.split})")
    if (rates := result.correction) is not None:
        print(f"on the first attempts of {config.first_attempts} ({rates.n_wrong} wrong, {rates.n_right} right):")
        for key, e in rates.by_key().items():
            m = metric(key)
            print(f"  {m.label}: " + ("–" if e is None else f"{m.with_unit(e.value)} {m.interval(e.low, e.high)}"))
    print(f"run directory: {result.run_dir}")
    return 0


def run_train(overrides: Sequence[str]) -> int:
    from score_env import api
    from score_env.training.summary import summarise

    run = api.train(load_config(TrainConfig, "train", overrides))
    if run.session.accelerator.is_main_process:  # the objective early vs late, the time, the checkpoints
        print("\n".join(summarise(run.run_dir).lines()))
    return 0


def run_benchmark(overrides: Sequence[str]) -> int:
    from score_env import api

    console = Console()
    result = api.benchmark(load_config(BenchmarkConfig, "benchmark", overrides), console=console)
    # Plain text: a failed method's message in it may hold "[...]" that rich would read as markup (and reject).
    console.print(BenchmarkLayout(result.report_dir).results_md.read_text(encoding="utf-8"), markup=False, emoji=False)
    console.print(f"report: {result.report_dir} ({', '.join(p.name for p in result.plots)})")
    return 0


def run_sweep(overrides: Sequence[str]) -> int:
    from score_env import api
    from score_env.config.benchmark import SweepConfig

    result = api.sweep(load_config(SweepConfig, "sweep", overrides))
    print("validation Acc@t2 by learning rate:")
    for name, by_rate in result.scores.items():
        cells = ", ".join(f"{rate:g}: {'failed' if s is None else f'{100 * s:.1f}'}" for rate, s in by_rate.items())
        print(f"  {name}: {cells}")
    print("record in the benchmark preset:\n" + result.preset_block())
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


def run_serve(overrides: Sequence[str]) -> int:
    """Serve one env to OpenEnv clients; the server itself is ``score_env.adapters.openenv_server``."""
    from score_env import api  # noqa: F401  (registers the task envs)
    from score_env.adapters.openenv_config import ServeConfig
    from score_env.preflight import check_env_choice, env_factory, import_tasks

    config = load_config(ServeConfig, "serve", overrides)
    import_tasks(config.imports)
    env_id, _ = check_env_choice(config.env, config.split)
    env_factory(env_id, config.split, "intrinsic", config.env_kwargs)  # bad env_kwargs fail here
    try:
        from score_env.adapters.openenv_server import serve
    except ModuleNotFoundError as exc:
        raise ConfigError(f"serve needs openenv-core ({exc}): pip install 'score-env[openenv]'") from None
    serve(config)
    return 0


def run_validate(overrides: Sequence[str]) -> int:
    """The battery on the env (``score_env.validate``): the table, ``validate.json``; exit 1 when a check fails."""
    from pathlib import Path

    from score_env import api  # noqa: F401  (registers the task envs)
    from score_env.layout import ValidateLayout
    from score_env.registry import resolve_env
    from score_env.runs import default_run_dir, write_atomic
    from score_env.validate import validate_env
    from score_env.validation import table

    config = load_config(ValidateConfig, "validate", overrides)
    report = validate_env(config.env, split=config.split, problems=config.problems, env_kwargs=config.task_kwargs(),
                          imports=config.imports, seed=config.seed, limit_s=config.limit_s)  # fmt: skip
    run_dir = Path(config.run_dir or default_run_dir("validate", resolve_env(report.env_id).short_name))
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(ValidateLayout(run_dir).report, report.to_json())
    print("\n".join(table(report)))
    verdict = "passed" if report.passed else f"FAILED ({', '.join(c.name for c in report.failing())})"
    print(f"\n{report.env_id} ({report.split}, {len(report.problems)} problem(s)): {verdict}; written to "
          f"{ValidateLayout(run_dir).report}")  # fmt: skip
    return 0 if report.passed else 1
