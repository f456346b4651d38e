"""Run the benchmark: a loop over methods that trains each with the same budget (``train_agent``), evaluates it
greedily (``evaluate_policy``) and runs the paper's analyses on it while it is in memory.

Each method's outcome is written as it finishes (``methods/<name>/result.json``); a method that fails is recorded
and the next one runs; a rerun with the same report directory keeps every finished method and continues an
unfinished one from its last training checkpoint and its evaluated batches.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rich.console import Console

from score_env.assets import resolve_model
from score_env.benchmark.analyses import distribution_shift, inference_scaling
from score_env.benchmark.results import MethodFailure, MethodResult, read_outcome, write_outcome
from score_env.config import AgentConfig, BenchmarkConfig, TrainConfig
from score_env.evaluation import evaluate_policy
from score_env.policies import SamplingParams
from score_env.registry import EnvFactory
from score_env.runs import open_run_dir
from score_env.training.run import BuildAgent, train_agent

Outcome = MethodResult | MethodFailure


@dataclass(frozen=True)
class Wiring:
    """What the commands layer supplies: the envs, the agent configs by name and the agents themselves."""

    train_env: EnvFactory
    eval_env: EnvFactory
    agent_config: Callable[[str], AgentConfig]  # configs/agents/<name>.yaml, validated
    build_agent: BuildAgent


def run_benchmark(config: BenchmarkConfig, wiring: Wiring, report_dir: Path, console: Console) -> tuple[Outcome, ...]:
    open_run_dir(report_dir, config.model_dump(mode="json", exclude={"report_dir"}))
    n_eval = wiring.eval_env.n_problems
    problems = list(range(min(config.eval_problems or n_eval, n_eval)))
    outcomes = []
    for position, name in enumerate(config.methods, 1):
        console.rule(f"method {position}/{len(config.methods)}: {name}")
        outcomes.append(run_method(name, config, wiring, problems, report_dir / "methods" / name, console))
    return tuple(outcomes)


def run_method(
    name: str, config: BenchmarkConfig, wiring: Wiring, problems: list[int], method_dir: Path, console: Console
) -> Outcome:
    """One method, start to finish (or its earlier outcome, kept)."""
    done = method_dir / "result.json"
    if done.exists():
        console.print(f"{name}: done in an earlier run, kept")
        return read_outcome(done)
    method_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        outcome = _train_and_evaluate(name, config, wiring, problems, method_dir, start)
    except Exception as error:  # noqa: BLE001  (one method failing must not lose the others: recorded, shown)
        console.print(f"[red]{name} failed[/red]: {type(error).__name__}: {error}")
        (method_dir / "error.txt").write_text(traceback.format_exc())
        return MethodFailure(name, f"{type(error).__name__}: {error}")
    write_outcome(done, outcome)
    acc = outcome.report.estimates
    console.print(
        f"{name}: Acc@t1 {acc['acc@t1'].value:.3f}, Acc@t2 {acc['acc@t2'].value:.3f} ({outcome.wall_s:.0f} s)"
    )
    return outcome


def _train_and_evaluate(
    name: str, config: BenchmarkConfig, wiring: Wiring, problems: list[int], method_dir: Path, start: float
) -> MethodResult:
    agent_config = method_agent(wiring.agent_config(name), config)
    updates = episodes = 0
    if agent_config.kind == "prompting":
        policy = base = config.policy.load(resolve_model(config.model))
    else:
        run = train_agent(
            train_config(agent_config, config), wiring.build_agent, wiring.train_env, method_dir / "train", name
        )
        policy = run.agent.policy
        base = run.session.reference.sampler(run.session.tokenizer, config.policy.batch_size)
        updates, episodes = run.updates, run.episodes_sampled
    greedy = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=config.eval_max_new_tokens)
    make = wiring.eval_env
    evaluation = evaluate_policy(
        policy, partial(make, 2), problems, sampling=greedy, seed=config.seed, run_dir=method_dir / "eval", label=name
    )
    scaling = shift = None
    if config.scaling.problems and name in config.scaling.methods:
        sampled = SamplingParams(config.scaling.temperature, 1.0, config.eval_max_new_tokens)
        scaling = inference_scaling(
            policy,
            make,
            problems[: config.scaling.problems],
            max_k=config.scaling.max_k,
            sampling=sampled,
            seed=config.seed,
            run_dir=method_dir / "analyses" / "scaling",
        )
    if config.distribution_shift and agent_config.kind != "prompting":
        shift = distribution_shift(
            policy,
            base,
            evaluation.episodes,
            make,
            problems,
            sampling=greedy,
            seed=config.seed,
            run_dir=method_dir / "analyses" / "shift",
        )
    tokens = sum(len(a.token_ids) for e in evaluation.episodes for a in e.attempts)
    return MethodResult(
        name, agent_config.kind, updates, episodes, evaluation.report, tokens, time.monotonic() - start, scaling, shift
    )


def method_agent(agent: AgentConfig, config: BenchmarkConfig) -> AgentConfig:
    """The method's agent with the benchmark's budget (its own rule) and learning rate."""
    agent = agent.with_budget(config.budget)
    if config.lr is not None and agent.kind != "prompting":
        agent = agent.model_copy(update={"lr": config.lr})
    return agent


def train_config(agent: AgentConfig, config: BenchmarkConfig) -> TrainConfig:
    """The training run of one method: ``score-env train``'s own config, filled from the benchmark's."""
    return TrainConfig(
        agent=agent,
        env=config.env,
        env_kwargs=config.env_kwargs,
        split=config.train_split,
        model=config.model,
        policy=config.policy,
        sampling=config.train_sampling,
        problems_per_step=config.problems_per_update,
        samples=config.samples,
        checkpoint_every=config.checkpoint_every,
        grading_threads=config.grading_threads,
        seed=config.seed,
    )
