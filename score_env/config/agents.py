"""Agent configs: one model per agent, a discriminated union on ``kind``. Defaults are the paper's where it has one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt

from score_env.config.base import Strict


class PromptingAgentConfig(Strict):
    """The base model answering with the env's correction instruction; no training (Self-Refine style)."""

    kind: Literal["prompting"] = "prompting"
    """Agent type (the discriminator)."""


class SFTAgentConfig(Strict):
    """Pair-SFT (Welleck et al., 2023, as in SCoRe): pair each wrong attempt with a random right response to the same
    problem from all of the model's attempts; one epoch of SFT on (problem, wrong attempt, instruction) → right."""

    kind: Literal["sft"] = "sft"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-5
    """Adam learning rate."""
    problems: PositiveInt = 256
    """Training problems to sample the model's own attempts on."""
    epochs: PositiveInt = 1
    """Passes over the pairs (the paper: one)."""
    batch_size: PositiveInt = 16
    """Pairs per update."""
    max_pairs_per_problem: PositiveInt = 4
    """Cap on the pairs one problem contributes."""


class StarAgentConfig(Strict):
    """Multi-turn STaR: collect two-attempt traces at temperature 1.0, keep wrong→right ones (and right→right ones
    with ``keep_correct_pairs``: the paper's STaR+), fine-tune on attempt 2 given [x, y1, p], repeat."""

    kind: Literal["star"] = "star"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-5
    """Adam learning rate."""
    iterations: PositiveInt = 3
    """Collect-then-train rounds (the paper: 3)."""
    problems: PositiveInt = 128
    """Problems sampled per iteration."""
    keep_correct_pairs: bool = False
    """Also keep right→right traces (STaR+)."""
    epochs: PositiveInt = 1
    """Passes over each iteration's traces."""
    batch_size: PositiveInt = 16
    """Traces per update."""


class ScoreAgentConfig(Strict):
    """SCoRe: REINFORCE with a leave-one-out baseline and per-attempt KL to the base model, in two stages."""

    kind: Literal["score"] = "score"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 5e-6
    """Adam learning rate (the paper, MATH: 5e-6)."""
    stage1_steps: int = Field(50, ge=0)
    """Stage I updates (not reported by the paper; 0 = the "w/o Stage I" ablation)."""
    stage2_steps: int = Field(50, ge=0)
    """Stage II updates."""
    alpha: float = Field(10.0, ge=0)
    """Reward-shaping weight α in r2 + α(r2 − r1) (the paper: 10; 0 = the "w/o reward shaping" ablation)."""
    beta1: float = Field(0.01, ge=0)
    """KL weight β1 (the paper: 0.01)."""
    beta2: float = Field(0.1, ge=0)
    """Stage I KL weight β2 on attempt 1 (the paper: 0.1 on MATH, 0.25 on MBPP)."""
    multi_turn: bool = True
    """False = the "single-turn RL" ablation: train attempt 1 only, for stage1_steps + stage2_steps updates."""
    baseline: Literal["rloo", "batch_mean", "none"] = "rloo"
    """Baseline for the advantages."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-attempt KL: the log-ratio summed over the attempt's tokens, or the k3 estimator."""
    base_first_attempt_fraction: float = Field(0.0, ge=0, le=1)
    """Fraction of problems whose attempt 1 is sampled from the base model (SCoRe's optional mixing)."""


AgentConfig = Annotated[
    PromptingAgentConfig | SFTAgentConfig | StarAgentConfig | ScoreAgentConfig, Field(discriminator="kind")
]
TrainedAgentConfig = Annotated[SFTAgentConfig | StarAgentConfig | ScoreAgentConfig, Field(discriminator="kind")]
