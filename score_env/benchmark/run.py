"""Run the benchmark: for each method, train (same budget), evaluate greedily, keep the result; then the analyses.

Results are written per method as they finish (``methods/<name>/result.json``); a method that fails is recorded
and the next one runs; rerunning with the same report directory skips every method already done.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from rich.console import Console

from score_env.agent import Agent, TrainingPlan
from score_env.benchmark.analyses import distribution_shift, inference_scaling
from score_env.config.agents import AgentConfig, ScoreAgentConfig, SFTAgentConfig, StarAgentConfig
from score_env.config.benchmark import BenchmarkConfig
from score_env.learner.checkpoint import checkpoint_path
from score_env.learner.session import TrainingSession
from score_env.metrics import self_correction_metrics
from score_env.policies import Policy, SamplingParams
from score_env.policies.factory import load_policy
from score_env.rollout import collect_episodes
from score_env.runs import EPISODES, append_episodes, prepare_run_dir, read_episodes, write_atomic


@dataclass(frozen=True)
class Setup:
    """What the CLI wires in: the env factory per split, the agents, the agent configs by name."""

    make_train_env: Callable[[int], gym.Env]  # max_attempts -> an env over the training split
    make_eval_env: Callable[[int], gym.Env]  # max_attempts -> an env over the evaluation split
    agent_config: Callable[[str], AgentConfig]  # agent file name -> its config
    build_agent: Callable[[AgentConfig, Policy], Agent]
    model_path: str


def run_benchmark(config: BenchmarkConfig, setup: Setup, report_dir: Path, console: Console) -> dict[str, Any]:
    prepare_run_dir(report_dir, config.model_dump(mode="json", exclude={"report_dir"}))
    n_eval = len(setup.make_eval_env(2).unwrapped.task.problems)
    eval_problems = list(range(min(config.eval_problems or n_eval, n_eval)))
    results = {}
    for position, name in enumerate(config.methods, 1):
        console.rule(f"method {position}/{len(config.methods)}: {name}")
        results[name] = _method(config, setup, report_dir / "methods" / name, name, eval_problems, console)
    analyses = _analyses(config, setup, report_dir, eval_problems, results, console)
    summary = {"methods": results, "analyses": analyses}
    write_atomic(report_dir / "results.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _method(
    config: BenchmarkConfig, setup: Setup, method_dir: Path, name: str, eval_problems: list[int], console: Console
) -> dict[str, Any]:
    done = method_dir / "result.json"
    if done.exists():
        console.print(f"{name}: done in an earlier run, kept")
        return json.loads(done.read_text())
    method_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        agent_config = budgeted(setup.agent_config(name), config)
        policy = load_policy(
            setup.model_path,
            backend=config.policy.backend,
            device=config.policy.device,
            dtype=config.policy.dtype,
            batch_size=config.policy.batch_size,
        )
        agent = setup.build_agent(agent_config, policy)
        updates = (
            _train(config, setup, agent, policy, method_dir / "train", name) if agent_config.kind != "prompting" else 0
        )
        episodes = _evaluate(config, setup, policy, eval_problems, method_dir)
    except Exception as error:  # noqa: BLE001  (one method failing must not lose the others: recorded, shown)
        console.print(f"[red]{name} failed[/red]: {type(error).__name__}: {error}")
        (method_dir / "error.txt").write_text(traceback.format_exc())
        return {"name": name, "error": f"{type(error).__name__}: {error}"}
    report = self_correction_metrics(episodes, seed=config.seed)
    result = {
        "name": name,
        "kind": agent_config.kind,
        "updates": updates,
        "metrics": {k: vars(v) for k, v in report.estimates.items()},
        "counts": report.counts,
        "reasons": report.reasons,
        "edit_distance_ratios": _edit_ratios(episodes),
        "generated_tokens": sum(len(a.token_ids) for e in episodes for a in e.attempts),
        "wall_s": time.monotonic() - start,
    }
    write_atomic(done, json.dumps(result, indent=2) + "\n")
    console.print(
        f"{name}: Acc@t1 {report.estimates['acc@t1'].value:.3f}, Acc@t2 {report.estimates['acc@t2'].value:.3f}"
        f" ({result['wall_s']:.0f} s)"
    )
    return result


def budgeted(agent: AgentConfig, config: BenchmarkConfig) -> AgentConfig:
    """The agent with the benchmark's budget: ``updates`` gradient updates from updates x P x k sampled episodes."""
    episodes_problems = config.updates * config.problems_per_update
    if config.lr is not None and agent.kind != "prompting":
        agent = agent.model_copy(update={"lr": config.lr})
    match agent:
        case ScoreAgentConfig():
            first = 0 if agent.multi_turn and agent.stage1_steps == 0 else config.updates // 2
            return agent.model_copy(update={"stage1_steps": first, "stage2_steps": config.updates - first})
        case SFTAgentConfig():
            return agent.model_copy(update={"problems": episodes_problems})
        case StarAgentConfig():
            return agent.model_copy(update={"problems": math.ceil(episodes_problems / agent.iterations)})
    return agent


def _train(config: BenchmarkConfig, setup: Setup, agent: Agent, policy: Any, run_dir: Path, name: str) -> int:
    run_dir.mkdir(parents=True, exist_ok=True)
    session = TrainingSession.start(
        policy, lr=agent.config.lr, run_dir=run_dir, seed=config.seed, checkpoint_every=10**9, resume=False
    )
    session.label = name
    n_train = len(setup.make_train_env(2).unwrapped.task.problems)
    plan = TrainingPlan(
        make_env=setup.make_train_env,
        n_problems=n_train,
        problems_per_step=config.problems_per_update,
        samples_per_problem=config.samples,
        sampling=config.train_sampling.params(),
        grading_threads=8,
    )
    agent.train(session, plan)
    session.checkpoint(stage=-1)  # the trained weights, for the analyses
    return session.step


def _evaluate(config: BenchmarkConfig, setup: Setup, policy: Policy, problems: list[int], method_dir: Path) -> list:
    greedy = SamplingParams(temperature=0.0, max_new_tokens=config.eval_max_new_tokens)
    (method_dir / EPISODES).unlink(missing_ok=True)
    episodes = collect_episodes(lambda: setup.make_eval_env(2), policy, problems, greedy, seed=config.seed)
    append_episodes(method_dir / EPISODES, episodes)
    return episodes


def _edit_ratios(episodes) -> list[float]:
    from score_env.metrics import edit_distance_ratio

    return [round(edit_distance_ratio(e.attempts[0].text, e.attempts[-1].text), 4) for e in episodes]


def _analyses(
    config: BenchmarkConfig,
    setup: Setup,
    report_dir: Path,
    eval_problems: list[int],
    results: dict[str, Any],
    console: Console,
) -> dict[str, Any]:
    path = report_dir / "analyses.json"
    finished = sorted(n for n, r in results.items() if "error" not in r)
    if path.exists() and json.loads(path.read_text()).get("methods") == finished:
        return json.loads(path.read_text())  # done in an earlier run over the same finished methods
    console.rule("analyses")
    analyses: dict[str, Any] = {"methods": finished, "inference_scaling": {}, "distribution_shift": {}}
    base = _load(config, setup.model_path)
    make = setup.make_eval_env
    trained = {n: r for n, r in results.items() if "error" not in r and r.get("kind") != "prompting"}
    if config.scaling.problems:
        problems = eval_problems[: config.scaling.problems]
        for name in ["prompting", *(n for n in trained if n == "score")]:
            policy = base if name == "prompting" else _load(config, _trained_model(report_dir, name))
            console.print(f"inference-compute scaling: {name}")
            analyses["inference_scaling"][name] = inference_scaling(
                policy,
                make,
                problems,
                max_k=config.scaling.max_k,
                temperature=config.scaling.temperature,
                max_new_tokens=config.eval_max_new_tokens,
                seed=config.seed,
            )
    if config.distribution_shift:
        for name in trained:
            console.print(f"distribution shift: {name}")
            own = read_episodes(report_dir / "methods" / name / EPISODES)
            analyses["distribution_shift"][name] = distribution_shift(
                _load(config, _trained_model(report_dir, name)),
                base,
                own,
                make,
                eval_problems,
                config.eval_max_new_tokens,
                config.seed,
            )
    write_atomic(path, json.dumps(analyses, indent=2) + "\n")
    return analyses


def _trained_model(report_dir: Path, name: str) -> str:
    return str(checkpoint_path(report_dir / "methods" / name / "train", "last") / "model")


def _load(config: BenchmarkConfig, path: str) -> Policy:
    return load_policy(
        path,
        backend=config.policy.backend,
        device=config.policy.device,
        dtype=config.policy.dtype,
        batch_size=config.policy.batch_size,
    )
