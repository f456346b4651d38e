"""The ``score-env`` command: parse, call the Python API (``score_env.api``), print. Mistakes exit 2 with one line.

Usage::

    score-env envs [import=my_tasks]                 # the registered envs and their arguments (env_kwargs)
    score-env agents                                 # the agent files (agent=<name>) and what each sets
    score-env eval agent=prompting env=arithmetic model=<path> [key=value ...]
    score-env train agent=<sft|star|star_plus|score|score_...> env=arithmetic model=<path> [key=value ...]
    score-env benchmark [config=benchmark_quick] [seeds=[0,1,2]] [key=value ...]
    score-env sweep [benchmark=benchmark] [grid=[3e-5,1e-4,3e-4,1e-3]]
    score-env pretrain out=<dir> [conversations=40000 epochs=4 seed=0 ...]
    score-env tiny-model out=<dir> [env=arithmetic vocab_size=512 hidden_size=64 layers=2 seed=0]
    score-env serve env=<name> [split=train port=8000 host=127.0.0.1 ...]   (an OpenEnv server; needs [openenv])
    score-env view <run dir> [--open]                # view.html: every episode of a benchmark, eval or train run
    score-env regrade <run dir> [import=my_tasks]    # re-grade saved episodes with the current grader: new metrics
"""

from __future__ import annotations

import sys
import warnings
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
    registered_agents,
)
from score_env.config.explain import explain_config, format_config, wants_print_config
from score_env.layout import BenchmarkLayout
from score_env.registry import UnknownNameError
from score_env.rollout import GradingFailed
from score_env.task import TaskError
from score_env.text import escape_text
from score_env.training.session import Diverged

COMMANDS = ("envs", "agents", "eval", "train", "benchmark", "sweep", "pretrain", "tiny-model", "serve", "view",
            "regrade")  # fmt: skip
USAGE = __doc__.split("Usage::", 1)[1].rstrip()


HELP = {
    "eval": ("EvalConfig", "play an env with an agent's policy and measure self-correction"),
    "train": ("TrainConfig", "train a correction method; resume=<run dir> continues a run"),
    "benchmark": ("BenchmarkConfig", "every method with the same budget, side by side, over seeds"),
    "sweep": ("SweepConfig", "each method's learning rate from a grid, on validation problems"),
    "pretrain": ("PretrainConfig", "re-make the embedded base model from scratch"),
    "tiny-model": ("TinyModelConfig", "a tiny random model for demos and tests"),
    "serve": ("ServeConfig", "one env as an OpenEnv server (needs pip install 'score-env[openenv]')"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(f"usage:{USAGE}\n\n`score-env <command> --help` lists a command's keys.")
        return 0
    if args[0] in ("-V", "--version"):
        from score_env import __version__

        print(f"score-env {__version__}")
        return 0
    command, overrides = args[0], args[1:]
    if command in HELP and {"-h", "--help"} & set(overrides):
        return command_help(command)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(command)
            return run(command, overrides)
    except (ConfigError, UnknownNameError, TaskError) as exc:
        print(f"score-env {command}: error: {escape_text(str(exc))}", file=sys.stderr)
        return 2
    except (GradingFailed, Diverged) as exc:
        print(f"score-env {command}: stopped: {escape_text(str(exc))}", file=sys.stderr)  # may quote a grade's detail
        return 1
    except KeyboardInterrupt as exc:
        print(f"\nscore-env {command}: interrupted. {continuation(command, overrides, exc)}", file=sys.stderr)
        return 130


def _one_line_warning(command: str):
    def show(message, category, *_args, **_kwargs) -> None:
        print(f"score-env {command}: warning: {escape_text(str(message))}", file=sys.stderr)

    return show


def continuation(command: str, overrides: Sequence[str], interruption: KeyboardInterrupt) -> str:
    """What was kept, and the command that continues from it."""
    from score_env.runs import RunInterrupted
    from score_env.training.session import TrainingInterrupted

    if isinstance(interruption, RunInterrupted):  # the command's own directory, whatever was running inside it
        again = [o for o in overrides if not o.startswith(f"{interruption.key}=")]
        again.append(f"{interruption.key}={interruption.path}")
        return f"What finished is kept; continue with: score-env {command} {' '.join(again)}"
    if isinstance(interruption, TrainingInterrupted):
        return (
            f"Update {interruption.step} is checkpointed; continue with: score-env train resume={interruption.run_dir}"
        )
    # Stopped while setting up (checking, loading the model): no episode or update was done yet.
    return f"Stopped before any work was done: run score-env {command} again to start it."


def run(command: str, overrides: Sequence[str]) -> int:  # noqa: C901  (one case per command: a flat dispatch)
    asked, overrides = wants_print_config(overrides)
    if asked and command in HELP:  # the merged config with each value's origin; nothing runs
        print(format_config(explain_config(config_model(command), command.replace("-", "_"), overrides)))
        return 0
    match command:
        case "envs":
            return list_envs(overrides)
        case "agents":
            return list_agents()
        case "eval":
            return run_eval(overrides)
        case "train":
            return run_train(overrides)
        case "benchmark":
            return run_benchmark(overrides)
        case "sweep":
            return run_sweep(overrides)
        case "pretrain":
            return run_pretrain(overrides)
        case "tiny-model":
            return run_tiny_model(overrides)
        case "serve":
            return run_serve(overrides)
        case "view":
            return run_view(overrides)
        case "regrade":
            return run_regrade(overrides)
    raise UnknownNameError("command", command, list(COMMANDS))


def config_model(command: str) -> type:
    """The config model of a command that takes ``key=value`` settings."""
    from score_env import config as configs

    if command == "serve":
        from score_env.adapters.openenv_config import ServeConfig

        return ServeConfig
    return getattr(configs, HELP[command][0])


def command_help(command: str) -> int:
    """The command's keys with their type, default and description (from the config model's docstrings)."""
    from score_env.config.help import describe_keys, describe_metrics

    model, purpose = config_model(command), HELP[command][1]
    print(f"score-env {command}: {purpose}\n")
    print(f"usage: score-env {command} [config=<preset name or YAML path>] [key=value ...]\n\nkeys:")
    print("\n".join(describe_keys(model)))
    if command in ("eval", "benchmark"):
        print("\nmetrics (the tables' columns; score_env/metric_catalogue.py):")
        print("\n".join(describe_metrics()))
    if "agent" in model.model_fields:
        print("\nagent keys (agent.<key>=value; `score-env agents` lists the agent files):")
        for spec in registered_agents():
            print(f"  kind={spec.kind}:")
            print("\n".join("  " + line for line in describe_keys(spec.config)[2:]))
    return 0


def list_envs(overrides: Sequence[str]) -> int:
    """The registered envs (``import=my_tasks`` adds the user's) with their arguments."""
    from score_env import api  # noqa: F401  (registers the task envs)
    from score_env.preflight import import_tasks
    from score_env.registry import registered_tasks

    imports = [v for k, _, v in (o.partition("=") for o in overrides) if k == "import"]
    unknown = [o for o in overrides if not o.startswith("import=")]
    if unknown:
        raise ConfigError(f"score-env envs takes only import=<module>, got {' '.join(unknown)}")
    import_tasks(imports)
    for spec in registered_tasks():
        print(f"{spec.env_id} ({spec.short_name}; splits: {', '.join(spec.splits)})")
        print(f"    {spec.description}")
        print(f"    env_kwargs: {spec.describe_arguments()}")
    return 0


def list_agents() -> int:
    from pathlib import Path

    from score_env.config.load import agent_sources

    kinds = {spec.kind: spec for spec in registered_agents()}
    for name, origin in agent_sources().items():
        if not origin.startswith(("project: ", "package: ")):  # a registered kind without an agent file
            print(f"{name}: {kinds[name].description}\n    kind: {name} (its defaults; {origin})")
            continue
        lines = Path(origin.split(": ", 1)[1]).read_text().splitlines()
        about = next((line.lstrip("# ") for line in lines[1:] if line.startswith("#")), "")
        settings = ", ".join(line for line in lines if line and not line.startswith("#"))
        print(f"{name}: {about}\n    {settings}\n    from the {origin}")
    return 0


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


def run_view(args: Sequence[str]) -> int:
    """Write the run directory's ``view.html``, print its path; ``--open`` opens it in a browser where there is one."""
    from pathlib import Path

    from score_env.view import write_view

    if {"-h", "--help"} & set(args):
        print(
            "usage: score-env view <run dir> [--open]\n\nwrites <run dir>/view.html: the results, the plots and "
            "every episode, attempt 1 and 2 side by side (a benchmark report, an eval or a training run)"
        )
        return 0
    paths = [a for a in args if a != "--open"]
    if len(paths) != 1 or any(p.startswith("-") for p in paths):
        raise ConfigError(f"view takes one run directory and optionally --open, got {' '.join(args) or 'nothing'}")
    path = write_view(Path(paths[0]))
    print(path)
    if "--open" in args:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            print("no browser found here: open the file above in one", file=sys.stderr)
    return 0


def run_regrade(args: Sequence[str]) -> int:
    """Re-grade a run's saved episodes with the current grader (``score_env.regrade``) and print what changed."""
    from pathlib import Path

    from score_env import api  # noqa: F401  (registers the task envs)
    from score_env.regrade import regrade_run
    from score_env.regrade.summary import describe, usage

    if {"-h", "--help"} & set(args):
        print(usage())
        return 0
    imports = [a.removeprefix("import=") for a in args if a.startswith("import=")]
    paths = [a for a in args if not a.startswith("import=")]
    if len(paths) != 1 or paths[0].startswith("-") or ("=" in paths[0] and not Path(paths[0]).exists()):
        raise ConfigError(
            f"regrade takes one run directory and optionally import=<module>, got {' '.join(args) or 'nothing'}"
        )
    print("\n".join(describe(*regrade_run(Path(paths[0]), imports))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
