"""``score-env train``: set up a training run, let the agent train, leave checkpoints behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym

from score_env.agent import Agent, TrainingPlan
from score_env.config import ConfigError, TrainConfig
from score_env.config.models import LoraConfig
from score_env.learner.checkpoint import read_index
from score_env.learner.session import TrainingSession
from score_env.policies import ModelPolicy
from score_env.policies.transformers_backend import TransformersPolicy
from score_env.runs import prepare_run_dir


def run_training(
    config: TrainConfig, agent: Agent, policy: ModelPolicy, make_env: Callable[[int], gym.Env], run_dir: Path
) -> TrainingSession:
    """Train ``agent`` (whose policy is ``policy``) and checkpoint; resumes when ``run_dir`` has checkpoints."""
    saved = config.model_dump(mode="json", exclude={"resume", "run_dir"})
    prepare_run_dir(run_dir, saved)  # refuses a run directory that holds another config
    index = read_index(run_dir)
    session = TrainingSession.start(
        policy,
        lr=agent.config.lr,
        run_dir=run_dir,
        seed=config.seed,
        checkpoint_every=config.checkpoint_every,
        resume=index is not None,
        tensorboard=config.tensorboard,
    )
    if index is not None and index["checkpoints"]:
        _load_weights(policy, run_dir / "checkpoints" / index["last"] / "model")
    probe = make_env(2)
    plan = TrainingPlan(
        make_env=make_env,
        n_problems=len(probe.unwrapped.task.problems),
        problems_per_step=config.problems_per_step,
        samples_per_problem=config.samples,
        sampling=config.sampling.params(),
        grading_threads=config.grading_threads,
    )
    probe.close()
    agent.train(session, plan)
    last = read_index(run_dir)
    if not last or last["checkpoints"][-1]["step"] != session.step:
        session.checkpoint(stage=-1)  # always leave the final weights
    return session


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


def _load_weights(policy: ModelPolicy, path: Path) -> None:
    """Put a checkpoint's weights (all of them, or a LoRA adapter's) into the policy's model."""
    if hasattr(policy.model, "peft_config"):
        from peft import load_peft_weights, set_peft_model_state_dict

        set_peft_model_state_dict(policy.model, load_peft_weights(str(path)))
        return
    trained = type(policy.model).from_pretrained(path, dtype=next(policy.model.parameters()).dtype)
    policy.model.load_state_dict(trained.state_dict())
