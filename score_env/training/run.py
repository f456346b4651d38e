"""The one training setup, used by ``score-env train`` and by the benchmark: load, resume, train, checkpoint.

``train_agent`` reads the run directory once: a directory that holds this very config continues from its last
checkpoint (weights, optimizer, RNG, step, elapsed time; ``metrics.jsonl`` cut back to that step), one that holds
another config is refused before any model loads. LoRA, TensorBoard, the checkpoint schedule and the final
checkpoint are all here, so every caller gets all of them.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from score_env.assets import resolve_model
from score_env.config import ConfigError, LoraConfig, TrainConfig, build_agent
from score_env.layout import TrainLayout
from score_env.policies import ModelPolicy
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.registry import EnvFactory
from score_env.runs import check_run_dir, open_run_dir, read_jsonl
from score_env.training.agent import Agent, TrainingPlan
from score_env.training.checkpoint import read_index
from score_env.training.session import Probe, TrainingSession
from score_env.training.trackers import open_trackers

# Keys a resumed run may change: how it runs (logging, threads, disk), not what it computes.
MAY_CHANGE = frozenset(
    {"tensorboard", "wandb", "grading_threads", "keep_checkpoints", "checkpoint_every", "policy.reuse_cache"}
)


@dataclass(frozen=True)
class TrainedRun:
    """A finished (or fully resumed) training run: the trained agent, still in memory, and what it spent."""

    agent: Agent
    session: TrainingSession
    run_dir: Path

    @property
    def updates(self) -> int:
        return self.session.step

    @cached_property
    def episodes_sampled(self) -> int:
        """Episodes the agent played in training: per RL update (``metrics.jsonl``) and per collected dataset."""
        layout = TrainLayout(self.run_dir)
        per_update = sum(int(r.get("episodes", 0)) for r in read_jsonl(layout.metrics_log))
        datasets = sum(json.loads(p.read_text(encoding="utf-8"))["episodes"] for p in layout.data_files())
        return per_update + datasets


def saved_config(config: TrainConfig) -> dict[str, Any]:
    """What ``config.yaml`` records: everything but where the run lives."""
    return config.model_dump(mode="json", by_alias=True, exclude={"resume", "run_dir"})


def check_resumable(config: TrainConfig, run_dir: Path) -> None:
    """Refuse, before any model loads, a run directory that holds another config."""
    check_run_dir(run_dir, saved_config(config), MAY_CHANGE)


def train_agent(
    config: TrainConfig,
    env: EnvFactory,
    run_dir: Path,
    label: str = "train",
    probe: Probe | None = None,
    group: str | None = None,
) -> TrainedRun:
    """Train ``config.agent`` from ``config.model`` on ``env``; resume when ``run_dir`` has checkpoints. ``probe``
    measures the policy before the first update, at the end of each stage and after the last update
    (``probes.jsonl``). ``group`` gathers W&B runs (a benchmark's)."""
    open_run_dir(run_dir, saved_config(config), MAY_CHANGE)
    index = read_index(run_dir)
    last = TrainLayout(run_dir).checkpoint(index.last).root if index and index.checkpoints else None
    policy = config.policy.load(resolve_model(config.model))
    if config.lora is not None:
        policy = add_lora(policy, config.lora)
    agent = build_agent(config.agent, policy)
    session = TrainingSession.start(
        policy,
        lr=config.agent.lr,
        run_dir=run_dir,
        seed=config.seed,
        checkpoint_every=config.checkpoint_every,
        label=label,
        keep_checkpoints=config.keep_checkpoints,
        max_grad_norm=config.max_grad_norm,
        trackers=open_trackers(
            run_dir,
            tensorboard=config.tensorboard,
            wandb=config.wandb,
            name=run_dir.name if group is None else f"{label} (seed {config.seed})",
            config=saved_config(config),
            group=group,
        ),
        resume_from=last,
    )
    plan = TrainingPlan(
        env=env,
        n_problems=_training_pool(env.n_problems, config.holdout),
        problems_per_step=config.problems_per_step,
        samples_per_problem=config.samples,
        sampling=config.sampling.params(),
        grading_threads=config.grading_threads,
    )
    session.probe = probe
    if session.step == 0:
        session.run_probe("start")
    try:
        with stop_on_ctrl_c(session):
            agent.train(session, plan)
        session.run_probe("end")
        index = read_index(run_dir)
        if not index or index.checkpoints[-1].step != session.step:
            session.checkpoint(stage=-1)  # always leave the final weights
    finally:
        for tracker in session.trackers:
            tracker.close()
    return TrainedRun(agent, session, run_dir)


@contextmanager
def stop_on_ctrl_c(session: TrainingSession) -> Iterator[None]:
    """The first Ctrl-C asks the session to stop after the update under way (it checkpoints it and raises
    ``TrainingInterrupted``); a second one stops at once. Outside the main thread nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ask(signum: int, frame: Any) -> None:
        session.stop_requested = True
        print("\nstopping after this update (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, ask)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _training_pool(n_problems: int, holdout: int) -> int:
    """Training draws from the first ``n_problems - holdout`` problems (the rest are held out for validation)."""
    if holdout >= n_problems:
        raise ConfigError(f"holdout={holdout} leaves no training problems (the split has {n_problems})")
    return n_problems - holdout


def add_lora(policy: ModelPolicy, lora: LoraConfig) -> ModelPolicy:
    """The policy with its model wrapped in a peft LoRA adapter (trainable adapter, frozen base). It generates with
    the transformers backend: the fast loop reads the plain model layout."""
    try:
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model
    except ImportError as exc:
        raise ConfigError("lora needs the peft package: pip install 'score-env[lora]'") from exc
    peft_config = PeftLoraConfig(
        r=lora.rank,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return TransformersPolicy(get_peft_model(policy.model, peft_config), policy.tokenizer, policy.batch_size)
