"""The commands that look rather than run (envs, agents, view, regrade) and every command's ``--help``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from score_env.config import ConfigError, registered_agents

HELP = {
    "eval": ("EvalConfig", "play an env with an agent's policy and measure self-correction"),
    "train": ("TrainConfig", "train a correction method; resume=<run dir> continues a run"),
    "benchmark": ("BenchmarkConfig", "every method with the same budget, side by side, over seeds"),
    "sweep": ("SweepConfig", "each method's learning rate from a grid, on validation problems"),
    "pretrain": ("PretrainConfig", "re-make the embedded base model from scratch"),
    "tiny-model": ("TinyModelConfig", "a tiny random model for demos and tests"),
    "serve": ("ServeConfig", "one env as an OpenEnv server (needs pip install 'score-env[openenv]')"),
    "validate": ("ValidateConfig", "prove an env's reward before training on it: every check below on a sample"),
}


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
    if command == "validate":
        from score_env.validate import checks

        print("\nchecks (a failure exits 1; validate.json holds each failing example):")
        print(checks.__doc__.split("\n\n", 1)[1].rstrip())
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


def run_view(args: Sequence[str]) -> int:
    """Write the run directory's ``view.html``, print its path; ``--open`` opens it in a browser where there is one."""
    from pathlib import Path

    from score_env.view import write_view

    if {"-h", "--help"} & set(args):
        print(
            "usage: score-env view <run dir or validate.json> [--open]\n\nwrites <run dir>/view.html: the results, "
            "the plots and every episode, attempt 1 and 2 side by side (a benchmark report, an eval or a training "
            "run); for score-env validate, its checks and every failing example"
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
