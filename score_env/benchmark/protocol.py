"""What the benchmark's protocol makes of one method: its agent with the budget and learning rate the benchmark
fixes for every method, and its training run's config (``score-env train``'s own, filled from the benchmark's)."""

from __future__ import annotations

from score_env.config import AgentConfig, BenchmarkConfig, TrainConfig


def method_agent(name: str, agent: AgentConfig, config: BenchmarkConfig) -> AgentConfig:
    """The method's agent with the benchmark's budget (its own rule) and the method's learning rate."""
    agent = agent.with_budget(config.budget)
    if name in config.lrs and agent.trains:
        agent = agent.model_copy(update={"lr": config.lrs[name]})
    return agent


def train_config(agent: AgentConfig, config: BenchmarkConfig, seed: int) -> TrainConfig:
    """The training run of one method: ``score-env train``'s own config, filled from the benchmark's."""
    return TrainConfig(
        agent=agent,
        env=config.env,
        env_kwargs=config.env_kwargs,
        split=config.train_split,
        holdout=config.validation_problems,
        model=config.model,
        policy=config.policy,
        sampling=config.train_sampling,
        problems_per_step=config.problems_per_update,
        samples=config.samples,
        checkpoint_every=config.checkpoint_every,
        grading_threads=config.grading_threads,
        tensorboard=config.tensorboard,
        wandb=config.wandb,
        seed=seed,
    )
