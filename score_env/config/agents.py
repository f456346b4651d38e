"""Agent configs: one model per agent, a discriminated union on ``kind``. Defaults are the paper's where it has one.

Each config owns its **budget rule** (:meth:`with_budget`): how a budget of sampled episodes and gradient updates
maps onto its own keys, so a benchmark can give every method the same budget without knowing any method's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, PositiveFloat, PositiveInt

from score_env.config.base import Strict


@dataclass(frozen=True)
class Budget:
    """What every trained method may spend: ``updates`` gradient updates and ``updates x problems x samples``
    sampled episodes (``problems`` problems per update, ``samples`` episodes each)."""

    updates: int
    problems: int  # P, per update
    samples: int  # k, per problem

    @property
    def episodes(self) -> int:
        return self.updates * self.problems * self.samples


class PromptingAgentConfig(Strict):
    """The base model answering with the env's correction instruction; no training (Self-Refine style)."""

    kind: Literal["prompting"] = "prompting"
    """Agent type (the discriminator)."""

    def with_budget(self, budget: Budget) -> Self:
        """Nothing to spend: prompting trains nothing."""
        return self


class SFTAgentConfig(Strict):
    """Pair-SFT (Welleck et al., 2023, as in SCoRe): pair each wrong attempt with a random right response to the same
    problem from all of the model's attempts; SFT on (problem, wrong attempt, instruction) → right."""

    kind: Literal["sft"] = "sft"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-5
    """Adam learning rate."""
    problems: PositiveInt = 256
    """Training problems to sample the model's own attempts on (each ``samples`` times)."""
    updates: PositiveInt | None = None
    """Gradient updates over the pairs, cycling through them reshuffled (null = ``epochs`` passes)."""
    epochs: PositiveInt = 1
    """Passes over the pairs when ``updates`` is null (the paper: one)."""
    batch_size: PositiveInt = 16
    """Pairs per update."""
    max_pairs_per_problem: PositiveInt = 4
    """Cap on the pairs one problem contributes."""

    def with_budget(self, budget: Budget) -> Self:
        """All the episodes up front (``updates x P`` problems, k each), then exactly ``updates`` updates."""
        return self.model_copy(update={"problems": budget.updates * budget.problems, "updates": budget.updates})


class StarAgentConfig(Strict):
    """Multi-turn STaR: collect two-attempt traces at temperature 1.0, keep wrong→right ones (and right→right ones
    with ``keep_correct_pairs``: the paper's STaR+), fine-tune on attempt 2 given [x, y1, p], repeat."""

    kind: Literal["star"] = "star"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-5
    """Adam learning rate."""
    iterations: PositiveInt = 3
    """Collect-then-train rounds (the paper: 3)."""
    problems: PositiveInt = 384
    """Problems sampled in all (each ``samples`` times), split evenly over the iterations."""
    updates: PositiveInt | None = None
    """Gradient updates in all, split evenly over the iterations (null = ``epochs`` passes over each round's traces)."""
    keep_correct_pairs: bool = False
    """Also keep right→right traces (STaR+)."""
    epochs: PositiveInt = 1
    """Passes over each iteration's traces when ``updates`` is null."""
    batch_size: PositiveInt = 16
    """Traces per update."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates x P`` problems and ``updates`` updates in all, each split evenly over the iterations."""
        return self.model_copy(update={"problems": budget.updates * budget.problems, "updates": budget.updates})


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

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes: half in Stage I, half in Stage II (all in Stage II for the
        "w/o Stage I" ablation, whose ``stage1_steps`` is 0; all single-turn for that ablation)."""
        first = 0 if self.multi_turn and self.stage1_steps == 0 else budget.updates // 2
        return self.model_copy(update={"stage1_steps": first, "stage2_steps": budget.updates - first})


AgentConfig = Annotated[
    PromptingAgentConfig | SFTAgentConfig | StarAgentConfig | ScoreAgentConfig, Field(discriminator="kind")
]
TrainedAgentConfig = Annotated[SFTAgentConfig | StarAgentConfig | ScoreAgentConfig, Field(discriminator="kind")]
