"""One method of the benchmark, for one seed: train it with the budget (``train_agent``), evaluate it greedily and by
sampling (``evaluate_policy``), and run the analyses on it while it is in memory.

Its outcome is written when it finishes (``result.json`` in its directory) and read back by a rerun; an unfinished
method continues from its last training checkpoint and its evaluated batches.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from score_env.assets import resolve_model
from score_env.benchmark.analyses import (
    correction_ceiling,
    correction_rate,
    inference_scaling,
    majority_at_2,
    pass_at_2,
)
from score_env.benchmark.probe import collapse_alarm, correction_probe
from score_env.benchmark.protocol import method_agent, train_config
from score_env.benchmark.results import (
    MethodFailure,
    MethodResult,
    PerProblem,
    ProbePoint,
    SampledResult,
    ShiftRates,
    read_outcome,
    write_outcome,
)
from score_env.config import AgentConfig, BenchmarkConfig, EpisodeSettings
from score_env.correction import correct_fixed, mean_per_problem
from score_env.evaluation import Evaluation, evaluate_policy
from score_env.layout import MethodLayout, TrainLayout
from score_env.metric_catalogue import metric
from score_env.metrics import per_episode_correct
from score_env.policies import Policy, SamplingParams
from score_env.profile import phase, since, snapshot, to_json
from score_env.records import Attempt, Episode
from score_env.registry import EnvFactory
from score_env.rollout import GradingFailed
from score_env.runs import read_jsonl, write_atomic
from score_env.text import escape_text
from score_env.training.run import train_agent
from score_env.training.summary import summarise

Outcome = MethodResult | MethodFailure
ERROR_CHARS = 2000  # of a failed method's error message kept in its outcome; error.txt has the whole traceback


@dataclass(frozen=True)
class BaseAttempts:
    """The base model's greedy first attempts every method corrects: on the evaluated problems (the fix and break
    rates) and on validation problems (the learning check's probe during training)."""

    test: Mapping[int, Attempt]
    validation: Mapping[int, Attempt]


@dataclass(frozen=True)
class Wiring:
    """What the commands layer supplies: the envs and the agent configs by name (agents come from the registry)."""

    train_env: EnvFactory
    eval_env: EnvFactory
    agent_config: Callable[[str], AgentConfig]  # configs/agents/<name>.yaml, validated
    prepare: Callable[[], None] | None = None  # what a worker process runs first: import the command's task modules

    @contextmanager
    def open(self) -> Iterator[Wiring]:
        """The same wiring with both envs open (a task each, built here): a method's run, closed when it ends."""
        with self.train_env.open() as train_env, self.eval_env.open() as eval_env:
            yield replace(self, train_env=train_env, eval_env=eval_env)


def run_method(
    name: str,
    config: BenchmarkConfig,
    seed: int,
    wiring: Wiring,
    problems: list[int],
    method_dir: Path,
    console: Console,
    fixed: BaseAttempts | None = None,
) -> Outcome:
    """One method, start to finish (or its earlier result, kept). A failure is recorded, not raised. ``fixed``: the
    base model's greedy first attempts, for the fix and break rates and the probe (None: neither is measured)."""
    layout = MethodLayout(method_dir)
    done = layout.result
    if done.exists():
        console.print(f"{name} (seed {seed}): done in an earlier run, kept")
        return read_outcome(done)
    method_dir.mkdir(parents=True, exist_ok=True)
    start, before = time.monotonic(), snapshot()
    try:
        with wiring.open() as opened:  # the method's own tasks: no grader or sandbox of it outlives the method
            outcome = _train_and_evaluate(name, config, seed, opened, problems, method_dir, start, fixed)
    except GradingFailed:
        raise  # the grader or sandbox is broken: every method would fail the same way
    except Exception as error:  # noqa: BLE001  (one method failing must not lose the others: recorded, shown)
        # Its message may quote model text (a lone surrogate, control characters, rich markup): shown escaped.
        message = escape_text(f"{type(error).__name__}: {error}", ERROR_CHARS, one_line=True)
        console.print(f"[red]{escape(name)} (seed {seed}) failed[/red]: {escape(message)}")
        write_atomic(layout.error, escape_text(traceback.format_exc()))
        return MethodFailure(name, seed, message)
    write_outcome(done, outcome)
    write_atomic(layout.profile, json.dumps(to_json(since(before)), indent=1))
    shown = [(k, outcome.report.estimates[k]) for k in ("acc@t1", "acc@final", "delta")]
    if outcome.fixed and outcome.fixed.fix:  # on the base model's first attempts
        shown.append(("fix", outcome.fixed.fix))
    cells = ", ".join(f"{metric(k).label} {metric(k).with_unit(e.value)}" for k, e in shown)
    trained = summarise(layout.train.root)  # what training did: its objective early vs late
    if trained.objective is not None and trained.early is not None and trained.late is not None:
        cells += f"; training {trained.objective} {trained.early:.3g} -> {trained.late:.3g}"
    console.print(f"{escape(name)} (seed {seed}): {escape(cells)} ({outcome.wall_s:.0f} s)")
    return outcome


def _train_and_evaluate(
    name: str,
    config: BenchmarkConfig,
    seed: int,
    wiring: Wiring,
    problems: list[int],
    method_dir: Path,
    start: float,
    fixed: BaseAttempts | None,
) -> MethodResult:
    layout = MethodLayout(method_dir)
    agent_config = method_agent(name, wiring.agent_config(name), config)
    episode = agent_config.episode()
    updates = episodes = 0
    probes: tuple[ProbePoint, ...] = ()
    alarms: tuple[str, ...] = ()
    lr = getattr(agent_config, "lr", None)
    if not agent_config.trains:
        policy = config.policy.load(resolve_model(config.model))
    else:
        run_dir = layout.train.root
        probe = None
        if fixed is not None and fixed.validation and not episode.oracle:
            probe = correction_probe(wiring.train_env, fixed.validation, config.eval_max_new_tokens)
        config_ = train_config(agent_config, config, seed)
        with phase("training"):
            group = method_dir.parent.parent.name  # the report's: its W&B runs are gathered under it
            run = train_agent(config_, wiring.train_env, run_dir, name, probe=probe, group=group)
        policy = run.agent.policy
        probes, alarms = _probes_and_alarms(run_dir)
        updates, episodes = run.updates, run.episodes_sampled
    make = replace(wiring.eval_env, feedback=episode.feedback, stop=episode.stop)
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=config.eval_max_new_tokens)
    with phase("evaluation"):
        evaluation = evaluate_policy(
            policy, partial(make, episode.max_attempts), problems, sampling=greedy, seed=seed,
            run_dir=layout.eval.root, label=name, attempts=episode.max_attempts,
        )  # fmt: skip
        on_fixed = None
        if fixed is not None and not episode.oracle:  # every method corrects the base model's greedy first attempts
            on_fixed = correct_fixed(
                policy, make, fixed.test, evaluation.episodes, sampling=greedy, seed=seed,
                run_dir=layout.fixed.root, label=f"{name}, fixed t1",
            ).rates  # fmt: skip
    scaling = ceiling = None
    two_fixed = episode == EpisodeSettings()  # the paper's analyses are about two intrinsic attempts
    with phase("analyses"):
        if config.scaling.problems and name in config.scaling.methods and two_fixed:
            scaling = inference_scaling(
                policy,
                make,
                problems[: config.scaling.problems],
                max_k=config.scaling.max_k,
                sampling=SamplingParams(config.scaling.temperature, 1.0, config.eval_max_new_tokens),
                seed=seed,
                run_dir=layout.scaling.root,
            )
        if config.ceiling_samples and not agent_config.trains and two_fixed:
            sampling = SamplingParams(1.0, 1.0, config.eval_max_new_tokens)
            ceiling = correction_ceiling(
                policy, evaluation.episodes, make, samples=config.ceiling_samples, sampling=sampling, seed=seed,
                run_dir=layout.ceiling.root,
            )  # fmt: skip
    shift = None  # the paper's distribution-shift analysis: the same fix rate, on its own first attempts
    if config.distribution_shift and on_fixed and on_fixed.fix and two_fixed and agent_config.trains:
        shift = ShiftRates(correction_rate(evaluation.episodes), on_fixed.fix.value)
    with phase("evaluation"):
        sampled = _sampled(policy, config, make, episode, problems, seed, layout, fixed)
    tokens = sum(len(a.token_ids) for e in evaluation.episodes for a in e.attempts)
    return MethodResult(
        name=name,
        kind=agent_config.kind,
        seed=seed,
        lr=lr,
        updates=updates,
        episodes_sampled=episodes,
        report=evaluation.report,
        generated_tokens=tokens,
        wall_s=time.monotonic() - start,
        sampled=sampled,
        scaling=scaling,
        shift=shift,
        ceiling=ceiling,
        setting="oracle" if episode.oracle else "intrinsic",
        fixed=on_fixed,
        own=per_problem(evaluation.episodes, episode.max_attempts),
        alarms=alarms,
        probes=probes,
    )


def _probes_and_alarms(run_dir: Path) -> tuple[tuple[ProbePoint, ...], tuple[str, ...]]:
    """The probe's points and the collapse alarm of a training run (also written to ``alarms.txt`` in it)."""
    layout = TrainLayout(run_dir)
    records = read_jsonl(layout.probes_log)
    probes = tuple(ProbePoint(r["step"], r["stage"], r["acc@t1"], r.get("fix"), r.get("break")) for r in records)
    alarm = collapse_alarm(records, read_jsonl(layout.metrics_log))
    if alarm is not None:
        write_atomic(layout.alarms, alarm + "\n")
        print(f"ALARM ({run_dir}): {alarm}", file=sys.stderr)
    return probes, (alarm,) if alarm else ()


def per_problem(episodes: Sequence[Episode], attempts: int) -> PerProblem:
    """Right at attempt 1, at the final attempt, and the two transitions, per problem (mean over its samples)."""
    correct = per_episode_correct(episodes, attempts)
    first, final = correct[:, 0], correct[:, -1]
    columns = [mean_per_problem(episodes, v.tolist()) for v in (first, final, ~first & final, first & ~final)]
    problems = tuple(sorted(columns[0]))
    return PerProblem(problems, *(tuple(column[p] for p in problems) for column in columns))


def _sampled(
    policy: Policy,
    config: BenchmarkConfig,
    make: Callable[[int], Any],
    episode: EpisodeSettings,
    problems: list[int],
    seed: int,
    layout: MethodLayout,
    fixed: BaseAttempts | None,
) -> SampledResult | None:
    """Every metric averaged over n sampled episodes per problem, pass@2 / majority@2 of the first attempts, and
    sampled second attempts after the base model's greedy first attempts."""
    c = config.sampled_eval
    if not c.problems:
        return None
    sampling = SamplingParams(c.temperature, 1.0, config.eval_max_new_tokens)
    attempts = episode.max_attempts
    evaluation: Evaluation = evaluate_policy(
        policy, partial(make, attempts), problems[: c.problems], sampling=sampling, seed=seed + 1,
        samples=c.samples, run_dir=layout.sampled.root, label="sampled", attempts=attempts,
    )  # fmt: skip
    episodes = evaluation.episodes
    on_fixed = None
    if fixed is not None and not episode.oracle:
        subset = {p: fixed.test[p] for p in problems[: c.problems]}
        on_fixed = correct_fixed(
            policy, make, subset, episodes, sampling=sampling, seed=seed + 2, samples=c.samples,
            run_dir=layout.sampled_fixed.root, label="sampled, fixed t1",
        ).rates  # fmt: skip
    return SampledResult(
        evaluation.report, c.samples, c.temperature, pass_at_2(episodes), majority_at_2(episodes), on_fixed,
        per_problem(episodes, attempts),
    )  # fmt: skip
