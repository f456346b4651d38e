"""Read a run directory into a :class:`ViewPage`: a benchmark report, an eval run, a training run (``training``) or
a validate run (``validation``).

Which kind a directory is follows from what it holds: ``results.json`` or ``seed-*/<method>/result.json`` (a
benchmark report), ``episodes.jsonl`` (an eval run), ``metrics.jsonl`` or ``checkpoints/`` (a training run),
``validate.json`` (a validate run; that file may also be named itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from score_env.benchmark.aggregate import run_facts
from score_env.benchmark.results import MethodFailure, MethodOutcome, MethodResult
from score_env.config import ConfigError
from score_env.layout import BenchmarkLayout, EvalLayout, TrainLayout, ValidateLayout
from score_env.metrics import SelfCorrectionReport, self_correction_metrics
from score_env.runs import read_episodes
from score_env.view.model import (
    EpisodeRun,
    Figure,
    ProblemTexts,
    ResultRow,
    ViewPage,
    correction_instruction,
    view_episode,
)
from score_env.view.training import read_training_run
from score_env.view.validation import read_validate

# The benchmark's plots (score_env/report/plots.py), in the order the page shows them; other PNGs follow.
_REPORT_FILES = BenchmarkLayout(Path())
PLOTS = {
    _REPORT_FILES.correction_plot.name: "Correction on the base model's first attempts",
    _REPORT_FILES.accuracy_plot.name: "Accuracy per attempt",
    _REPORT_FILES.edit_distance_plot.name: "How much attempt 2 rewrites attempt 1",
    _REPORT_FILES.training_curves_plot.name: "Training curves",
    _REPORT_FILES.scaling_plot.name: "Inference-compute scaling",
    _REPORT_FILES.shift_plot.name: "Distribution shift",
}
FIXED_NOTE = (
    "Attempt 1 is the base model's greedy first attempt, the same for every method; attempt 2 is this method's. "
    "wrong→right episodes are the fix rate's, right→wrong the break rate's."
)
VALIDATE_REPORT = ValidateLayout(Path()).report.name  # "validate.json"; a copy may be named "<env>.validate.json"
_OUTCOMES: TypeAdapter[tuple[MethodResult | MethodFailure, ...]] = TypeAdapter(tuple[MethodOutcome, ...])
_REPORT: TypeAdapter[SelfCorrectionReport] = TypeAdapter(SelfCorrectionReport)


def read_run(path: Path) -> ViewPage:
    """The page of the run in ``path`` (a run directory, or a validate run's ``validate.json``); a path that is
    neither raises ``ConfigError`` saying what was expected."""
    if not path.exists():
        raise ConfigError(
            f"{str(path)!r} does not exist: give a run directory (a benchmark report, eval, train or validate run)"
        )
    if path.is_file() and path.name.endswith(VALIDATE_REPORT):
        return read_validate(path)
    if not path.is_dir():
        raise ConfigError(
            f"{str(path)!r} is a file: give the run directory that holds it ({str(path.parent)!r}?) or a "
            f"{VALIDATE_REPORT}"
        )
    benchmark, train, validate = BenchmarkLayout(path), TrainLayout(path), ValidateLayout(path)
    if benchmark.results.exists() or benchmark.method_results() or "methods" in read_config(path):
        return read_benchmark(path)  # (a benchmark's config alone: one started, with no method finished yet)
    if EvalLayout(path).episodes.exists():
        return read_eval(path)
    if train.metrics_log.exists() or train.checkpoints.is_dir():
        return read_training_run(path, read_config(path))
    if validate.report.exists():
        return read_validate(validate.report)
    raise ConfigError(
        f"{str(path)!r} holds no score-env run: expected results.json (a benchmark report), episodes.jsonl (an eval "
        f"run), metrics.jsonl (a training run) or {VALIDATE_REPORT} (a validate run)"
    )


def read_config(run_dir: Path) -> dict[str, Any]:
    path = EvalLayout(run_dir).config  # every kind of run directory keeps its config at the same place
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def read_benchmark(report_dir: Path) -> ViewPage:
    config = read_config(report_dir)
    outcomes = _outcomes(report_dir)
    layout = BenchmarkLayout(report_dir)
    seeds = sorted({o.seed for o in outcomes})
    problems = ProblemTexts()
    rows, runs, instruction = [], [], ""
    for o in outcomes:
        label = o.name if len(seeds) == 1 else f"{o.name} (seed {o.seed})"
        if isinstance(o, MethodFailure):
            rows.append(ResultRow(label, None, error=o.error))
            continue
        rows.append(ResultRow(label, o.report, facts=run_facts(o.report, o), fixed=o.fixed.by_key() if o.fixed else {}))
        method = layout.method(o.seed, o.name)
        episodes = read_episodes(method.eval.episodes)
        instruction = instruction or next((correction_instruction(e) for e in episodes), "")
        viewed = tuple(view_episode(e, problems) for e in episodes)
        runs.append(EpisodeRun(label, f"seed {o.seed}", viewed, note=_episodes_note(o, len(episodes))))
        fixed = method.fixed.episodes
        if fixed.exists():  # attempt 2 after the base model's first attempts: the fix and break rates' episodes
            on_fixed = tuple(view_episode(e, problems) for e in read_episodes(fixed))
            runs.append(EpisodeRun(f"{label}, on the base's first attempts", f"fixed t1, seed {o.seed}", on_fixed,
                                   note=FIXED_NOTE))  # fmt: skip
    return ViewPage(
        title=f"benchmark {report_dir.name}",
        kind="benchmark",
        facts=_benchmark_facts(config, seeds),
        results=tuple(rows),
        figures=_plots(report_dir),
        runs=tuple(runs),
        problems=tuple(problems.texts),
        notes=_unfinished(report_dir, config, outcomes),
        instruction=instruction,
    )


def read_eval(run_dir: Path) -> ViewPage:
    config = read_config(run_dir)
    layout = EvalLayout(run_dir)
    episodes = read_episodes(layout.episodes)
    if not episodes:
        raise ConfigError(f"{str(run_dir)!r} is an eval run with no episodes yet: nothing to show")
    notes: tuple[str, ...] = ()
    if layout.metrics.exists():
        report = _REPORT.validate_json(layout.metrics.read_text())
    else:  # interrupted before the end: the metrics of what was played
        report = self_correction_metrics(episodes, n_bootstrap=200)
        notes = ("The run has no metrics.json (interrupted?): the table is computed from the episodes played.",)
    label = f"{config.get('agent', {}).get('kind', 'eval')} on {config.get('env', '?')}"
    problems = ProblemTexts()
    viewed = tuple(view_episode(e, problems) for e in episodes)
    return ViewPage(
        title=f"eval {run_dir.name}",
        kind="eval",
        facts=_eval_facts(run_dir, config),
        results=(ResultRow(label, report, facts=run_facts(report)),),
        runs=(EpisodeRun(label, "eval", viewed),),
        problems=tuple(problems.texts),
        notes=notes,
        instruction=next((correction_instruction(e) for e in episodes), ""),
    )


def _outcomes(report_dir: Path) -> tuple[MethodResult | MethodFailure, ...]:
    """``results.json``, or while the benchmark runs (or was stopped) the methods finished so far."""
    layout = BenchmarkLayout(report_dir)
    if layout.results.exists():
        return _OUTCOMES.validate_json(layout.results.read_text())
    found = layout.method_results()
    return _OUTCOMES.validate_python([json.loads(p.read_text()) for p in found])


def _episodes_note(o: MethodResult, n: int) -> str:
    if n != o.report.episodes:
        return f"{n} episodes in eval/episodes.jsonl, {o.report.episodes} in the metrics: the file changed since."
    return ""


def _plots(report_dir: Path) -> tuple[Figure, ...]:
    found = {p.name: p for p in BenchmarkLayout(report_dir).plots()}
    order = [n for n in PLOTS if n in found] + [n for n in found if n not in PLOTS]
    return tuple(Figure(PLOTS.get(n, n), png=found[n].read_bytes()) for n in order)


def _unfinished(report_dir: Path, config: dict[str, Any], outcomes: tuple[Any, ...]) -> tuple[str, ...]:
    done = {(o.seed, o.name) for o in outcomes}
    wanted = [(s, m) for s in config.get("seeds", []) for m in config.get("methods", [])]
    missing = [f"{m} (seed {s})" for s, m in wanted if (s, m) not in done]
    if not missing:
        return ()
    return (
        f"Not finished, not shown: {', '.join(missing)} (under way, or stopped: the benchmark's own command with "
        f"report_dir={report_dir} continues it).",
    )


def _benchmark_facts(config: dict[str, Any], seeds: list[int]) -> tuple[str, ...]:
    env = config.get("env", "?") + (f" → {config['eval_env']}" if config.get("eval_env") else "")
    return (
        f"{env}, model {config.get('model', '?')}, {config.get('eval_problems') or 'all'} "
        f"{config.get('eval_split', '?')} problems, greedy; seeds {', '.join(map(str, seeds))}",
        f"budget per trained method: {config.get('updates', '?')} updates x {config.get('problems_per_update', '?')} "
        f"problems x {config.get('samples', '?')} samples",
    )


def _eval_facts(run_dir: Path, config: dict[str, Any]) -> tuple[str, ...]:
    sampling = config.get("sampling", {})
    facts = [
        f"{config.get('env', '?')} ({config.get('split', '?')}), model {config.get('model', '?')}, agent "
        f"{config.get('agent', {}).get('kind', '?')}, temperature {sampling.get('temperature', '?')}, "
        f"{config.get('samples', 1)} sample(s) per problem"
    ]
    if EvalLayout(run_dir).model.exists():
        model = json.loads(EvalLayout(run_dir).model.read_text())
        facts.append(f"evaluated training run {model.get('run')} at checkpoint {model.get('checkpoint')}")
    return tuple(facts)
