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
    score-env view <run dir> [--open]                # view.html: a benchmark, eval, train or validate run
    score-env regrade <run dir> [import=my_tasks]    # re-grade saved episodes with the current grader: new metrics
    score-env validate env=<name> [import=my_tasks problems=4 sandbox=...]   # prove an env's reward: the checks
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from score_env.cli.commands import (
    run_benchmark,
    run_eval,
    run_pretrain,
    run_serve,
    run_sweep,
    run_tiny_model,
    run_train,
    run_validate,
)
from score_env.cli.tools import HELP, command_help, config_model, list_agents, list_envs, run_regrade, run_view
from score_env.config import ConfigError
from score_env.config.explain import explain_config, format_config, wants_print_config
from score_env.policies.openai_backend import ServerFailed
from score_env.registry import UnknownNameError
from score_env.rollout import GradingFailed
from score_env.task import TaskError
from score_env.text import escape_text
from score_env.training.session import Diverged

COMMANDS = ("envs", "agents", "eval", "train", "benchmark", "sweep", "pretrain", "tiny-model", "serve", "view",
            "regrade", "validate")  # fmt: skip
USAGE = __doc__.split("Usage::", 1)[1].rstrip()


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
    except (GradingFailed, Diverged, ServerFailed) as exc:
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
        case "validate":
            return run_validate(overrides)
    raise UnknownNameError("command", command, list(COMMANDS))
