"""A training stage is data: which attempts earn reward, the KL weight on each attempt, α, the baseline, the steps.

``score_stages`` builds SCoRe's two stages and its ablations from the agent's config (docs/paper.md, "SCoRe" and
"Ablations"): every variant is the same learner with other numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from score_env.learner.losses import Baseline, KLEstimator


@dataclass(frozen=True)
class Stage:
    name: str
    steps: int
    reward_weights: tuple[float, ...]  # per attempt: weight of r_t in its return (0 = the attempt earns no reward)
    betas: tuple[float, ...]  # per attempt: KL weight β_t
    alpha: float  # reward shaping on the last attempt: r2 + α·(r2 − r1)
    baseline: Baseline = "rloo"
    kl_estimator: KLEstimator = "sum"

    @property
    def attempts(self) -> int:
        return len(self.reward_weights)

    def __post_init__(self) -> None:
        if len(self.betas) != len(self.reward_weights):
            raise ValueError(f"stage {self.name}: one β per attempt, got {self.betas} for {self.reward_weights}")


def score_stages(
    *,
    stage1_steps: int,
    stage2_steps: int,
    alpha: float,
    beta1: float,
    beta2: float,
    multi_turn: bool,
    baseline: Baseline,
    kl_estimator: KLEstimator,
    attempts: int = 2,
) -> list[Stage]:
    """SCoRe's stages (the paper's α = 10, β1 = 0.01, β2 = 0.1 are the agent config's defaults).

    Stage I: attempt 1 earns no reward and is held near the base model by a strong β2; attempt 2 earns r2 − β1·KL2.
    Stage II: attempt 1 earns r1 − β1·KL1; attempt 2 earns r2 + α(r2 − r1) − β1·KL2.
    ``multi_turn=False`` is the "single-turn RL" ablation: one attempt, r1 − β1·KL1, for all the steps.
    With ``attempts`` = n > 2 (the paper's appendix), Stage I is repeated per extra attempt t = 2..n, splitting its
    steps: attempt t earns rt − β1·KLt and every earlier attempt is held by β2; Stage II rewards all n attempts, each
    correction shaped against the attempt before it.
    """
    if not multi_turn:
        return [Stage("single-turn", stage1_steps + stage2_steps, (1.0,), (beta1,), 0.0, baseline, kl_estimator)]
    stages = []
    extra = list(range(2, attempts + 1))
    for t, steps in zip(extra, even_split(stage1_steps, len(extra)), strict=True):
        if steps:
            name = "stage1" if attempts == 2 else f"stage1-t{t}"
            weights, betas = (0.0,) * (t - 1) + (1.0,), (beta2,) * (t - 1) + (beta1,)
            stages.append(Stage(name, steps, weights, betas, 0.0, baseline, kl_estimator))
    if stage2_steps:
        stages.append(
            Stage("stage2", stage2_steps, (1.0,) * attempts, (beta1,) * attempts, alpha, baseline, kl_estimator)
        )
    return stages


def even_split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` whole numbers that differ by at most one (the first ones take the remainder)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def stage_at(stages: list[Stage], step: int) -> tuple[int, Stage]:
    """The stage that training step ``step`` (0-based) belongs to, with its index."""
    start = 0
    for index, stage in enumerate(stages):
        if step < start + stage.steps:
            return index, stage
        start += stage.steps
    raise IndexError(f"step {step} is past the last stage ({start} steps in all)")
