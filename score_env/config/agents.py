"""Agent configs: one model per agent, a discriminated union on ``kind``. Defaults are the paper's where it has one.

Each config owns its **budget rule** (:meth:`with_budget`): how a budget of sampled episodes and gradient updates
maps onto its own keys, so a benchmark can give every method the same budget without knowing any method's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, PositiveFloat, PositiveInt

from score_env.config.base import Strict

Feedback = Literal["intrinsic", "oracle"]
Stop = Literal["fixed", "model_decides", "on_correct"]


@dataclass(frozen=True)
class EpisodeSettings:
    """How a method's episodes run: attempts, what the instruction says (intrinsic or oracle), who ends them."""

    max_attempts: int = 2
    feedback: Feedback = "intrinsic"
    stop: Stop = "fixed"

    @property
    def oracle(self) -> bool:
        """Oracle feedback tells the model whether it was right: reported apart from the intrinsic methods."""
        return self.feedback == "oracle"


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
    max_attempts: int = Field(2, ge=1)
    """Attempts per episode."""
    stop: Literal["fixed", "model_decides"] = "fixed"
    """``fixed``: always ``max_attempts``; ``model_decides``: the base model judges its own answer and revises only
    when its verdict says wrong (the prompted row of verify-then-revise)."""

    def with_budget(self, budget: Budget) -> Self:
        """Nothing to spend: prompting trains nothing."""
        return self

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "intrinsic", self.stop)


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

    def episode(self) -> EpisodeSettings:
        """Two attempts, the paper's setting."""
        return EpisodeSettings()


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

    def episode(self) -> EpisodeSettings:
        """Two attempts, the paper's setting."""
        return EpisodeSettings()


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
    attempts: int = Field(2, ge=2)
    """Attempts per episode (the paper: 2; its appendix extends SCoRe to 3 with a Stage I per extra attempt)."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes: half in Stage I, half in Stage II (all in Stage II for the
        "w/o Stage I" ablation, whose ``stage1_steps`` is 0; all single-turn for that ablation)."""
        first = 0 if self.multi_turn and self.stage1_steps == 0 else budget.updates // 2
        return self.model_copy(update={"stage1_steps": first, "stage2_steps": budget.updates - first})

    def episode(self) -> EpisodeSettings:
        """Evaluated on its attempts (single-turn RL as well: it is evaluated like every method, on two)."""
        return EpisodeSettings(max(self.attempts, 2))


class PagAgentConfig(Strict):
    """Verify-then-revise RL after PAG (Jiang et al., 2025, arXiv 2506.10406): after each attempt the policy judges
    its own answer; it revises only when its verdict says wrong. REINFORCE rewards every turn (an attempt: being
    right; a verdict: being right about the attempt), with turn-independent, per-role leave-one-out advantages."""

    kind: Literal["pag"] = "pag"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-6
    """Adam learning rate (PAG trains Qwen2.5 models at 1e-6)."""
    steps: PositiveInt = 100
    """RL updates."""
    max_attempts: int = Field(2, ge=2)
    """Attempts per episode at most (each but the last followed by a self-verdict)."""
    verdict_weight: float = Field(1.0, ge=0)
    """Weight of a verdict turn's reward (0: verdicts are not trained)."""
    beta: float = Field(0.01, ge=0)
    """KL weight on every turn."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-turn KL estimator."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes."""
        return self.model_copy(update={"steps": budget.updates})

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "intrinsic", "model_decides")


class MultiAttemptAgentConfig(Strict):
    """The oracle track (multi-attempt RL, arXiv 2503.04808): the env tells the model its answer was wrong and the
    episode ends at the first right one. Every attempt is rewarded for being right, with per-problem leave-one-out
    advantages. Oracle feedback is a different setting: reported apart from the intrinsic methods."""

    kind: Literal["multi_attempt"] = "multi_attempt"
    """Agent type (the discriminator)."""
    lr: PositiveFloat = 1e-6
    """Adam learning rate."""
    steps: PositiveInt = 100
    """RL updates."""
    max_attempts: int = Field(3, ge=2)
    """Attempts at most (the episode ends at the first right one)."""
    beta: float = Field(0.01, ge=0)
    """KL weight on every attempt."""
    kl_estimator: Literal["sum", "k3"] = "sum"
    """Per-attempt KL estimator."""

    def with_budget(self, budget: Budget) -> Self:
        """``updates`` RL updates of P x k episodes."""
        return self.model_copy(update={"steps": budget.updates})

    def episode(self) -> EpisodeSettings:
        return EpisodeSettings(self.max_attempts, "oracle", "on_correct")


AgentConfig = Annotated[
    PromptingAgentConfig
    | SFTAgentConfig
    | StarAgentConfig
    | ScoreAgentConfig
    | PagAgentConfig
    | MultiAttemptAgentConfig,
    Field(discriminator="kind"),
]
TrainedAgentConfig = Annotated[
    SFTAgentConfig | StarAgentConfig | ScoreAgentConfig | PagAgentConfig | MultiAttemptAgentConfig,
    Field(discriminator="kind"),
]
