"""Which evaluations a run directory holds, and how the run measured each: what ``score-env regrade`` re-grades.

An eval run is one evaluation (two with ``first_attempts=``: the replayed first attempts and the model's own). A
benchmark report holds many: the base model's first attempts, and per seed and method ``eval/``, ``fixed/``,
``sampled/``, ``sampled/fixed/`` and the analyses. A training run keeps none (``samples.jsonl`` holds training
episodes, not an evaluation): regrade an eval of it instead.

Each evaluation's metrics were computed with a bootstrap seed and a number of resamples chosen where it was played
(``benchmark/run.py``, ``benchmark/method.py``, ``benchmark/analyses.py``, ``api.py``); :func:`run_evaluations`
repeats those choices so that re-measuring saved grades gives the saved metrics exactly. ``score_env.regrade``
checks that it does, on every directory, and says so where it does not (a run of an older score-env).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from score_env.config import ConfigError
from score_env.evaluation import evaluate_policy
from score_env.layout import CONFIG, BenchmarkLayout, EvalLayout, MethodLayout, TrainLayout

# The resamples of every evaluation that does not choose its own: evaluate_policy's default.
DEFAULT_BOOTSTRAP: int = inspect.signature(evaluate_policy).parameters["bootstrap"].default
BASE_BOOTSTRAP = 10  # the base model's first attempts (benchmark/run.py, base_first_attempts), played with seed 0


@dataclass(frozen=True)
class Evaluation:
    """One evaluation directory of a run, the env it was played on and how its metrics were computed."""

    name: str  # its path under the run directory (an eval run's: from the run directory's own name)
    layout: EvalLayout
    env: str
    split: str
    seed: int  # the bootstrap's seed
    bootstrap: int  # the bootstrap's resamples
    own: EvalLayout | None = None  # attempt 1 was a fixed one: the model's own episodes (the re-solve control)


@dataclass(frozen=True)
class RunEvaluations:
    """A run directory's evaluations (those with saved episodes), with what re-grading them needs from its config."""

    root: Path
    kind: str  # "eval" or "benchmark"
    evaluations: tuple[Evaluation, ...]
    imports: tuple[str, ...]  # the modules the run imported to register its task
    env_kwargs: dict[str, Any]
    grading_threads: int


def run_evaluations(path: Path) -> RunEvaluations:
    """The evaluations saved in the run directory ``path``; a path that is none raises ConfigError saying why."""
    if not path.exists():
        raise ConfigError(f"{str(path)!r} does not exist: give a run directory (an eval run or a benchmark report)")
    if not path.is_dir():
        raise ConfigError(f"{str(path)!r} is a file: give the run directory that holds it ({str(path.parent)!r}?)")
    config = read_config(path)
    if BenchmarkLayout(path).results.exists() or BenchmarkLayout(path).first_attempts.episodes.exists():
        kind, found = "benchmark", _benchmark(path, config)
    elif EvalLayout(path).episodes.exists():
        kind, found = "eval", _eval(path, config)
    elif TrainLayout(path).metrics_log.exists() or TrainLayout(path).checkpoints.is_dir():
        raise ConfigError(
            f"{str(path)!r} is a training run: it keeps no evaluation episodes (samples.jsonl holds training "
            f"episodes). Evaluate it (score-env eval model={path} run_dir=<dir>) and regrade that directory"
        )
    else:
        kind, found = "?", []
    saved = tuple(e for e in found if e.layout.episodes.exists())
    if not saved:
        raise ConfigError(
            f"{str(path)!r} holds no saved episodes ({EvalLayout(path).episodes.name}): give an eval run or a "
            "benchmark report that has played some"
        )
    imports = tuple(_need(config, "import", path))
    return RunEvaluations(path, kind, saved, imports, _need(config, "env_kwargs", path),
                          _need(config, "grading_threads", path))  # fmt: skip


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's ``config.yaml``; none, or one that does not parse, is a ConfigError naming the file."""
    path = run_dir / CONFIG
    if not path.is_file():
        above = next((p for p in run_dir.resolve().parents if (p / CONFIG).is_file()), None)
        hint = f" (it is inside the run directory {str(above)!r}: regrade that)" if above else ""
        raise ConfigError(f"{str(run_dir)!r} is not a run directory: it has no {CONFIG}{hint}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {path}: {' '.join(str(error).split())}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path} is not a run's config (a mapping of keys), got {type(config).__name__}")
    return config


def _eval(root: Path, config: dict[str, Any]) -> list[Evaluation]:
    """``score-env eval``: its episodes; with ``first_attempts=``, also its own first attempts (api.py plays both
    with the run's seed and bootstrap)."""
    layout = EvalLayout(root)
    env, split = _need(config, "env", root), _need(config, "split", root)
    seed, bootstrap = _need(config, "seed", root), _need(config, "bootstrap", root)
    own = layout.own_first if layout.own_first.episodes.exists() else None
    found = [Evaluation(_name(root.parent, layout), layout, env, split, seed, bootstrap, own)]
    if own is not None:
        found.append(Evaluation(_name(root.parent, own), own, env, split, seed, bootstrap))
    return found


def _benchmark(root: Path, config: dict[str, Any]) -> list[Evaluation]:
    """``score-env benchmark``: the base model's first attempts, then every seed's methods in the config's order."""
    layout = BenchmarkLayout(root)
    env = _need(config, "env", root)
    test = (_need(config, "eval_env", root) or env, _need(config, "eval_split", root))
    found = [
        Evaluation(_name(root, layout.first_attempts), layout.first_attempts, *test, 0, BASE_BOOTSTRAP),
        Evaluation(
            _name(root, layout.validation_first_attempts), layout.validation_first_attempts, env,
            _need(config, "train_split", root), 0, BASE_BOOTSTRAP,
        ),
    ]  # fmt: skip
    for seed in _need(config, "seeds", root):
        for name in _need(config, "methods", root):
            found += _method(root, layout.method(seed, name), test, seed)
    return found


def _method(root: Path, method: MethodLayout, test: tuple[str, str], seed: int) -> list[Evaluation]:
    """A method's evaluations, each with the seed ``benchmark/method.py`` (and its analyses) measured it with."""
    plays = [  # (directory, bootstrap seed, the model's own episodes where attempt 1 was fixed)
        (method.eval, seed, None),
        (method.fixed, seed, method.eval),  # correct_fixed, against the method's own greedy episodes
        (method.sampled, seed + 1, None),
        (method.sampled_fixed, seed + 2, method.sampled),
        (method.scaling.two, seed, None),
        (method.scaling.one, seed + 1, None),
        (method.ceiling, seed, None),
    ]
    return [Evaluation(_name(root, d), d, *test, s, DEFAULT_BOOTSTRAP, own) for d, s, own in plays]


def _need(config: dict[str, Any], key: str, run_dir: Path) -> Any:
    """A key the run's config must have (every run of this score-env writes it)."""
    if key not in config:
        raise ConfigError(f"{run_dir / CONFIG} has no {key!r}: not a config score-env wrote (an eval run or benchmark)")
    return config[key]


def _name(base: Path, layout: EvalLayout) -> str:
    return str(layout.root.resolve().relative_to(base.resolve()))
