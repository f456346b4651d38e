"""``score-env benchmark``: correction methods side by side, with the same budget, on one env."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from score_env.config.agents import Budget
from score_env.config.base import Strict
from score_env.config.commands import EnvArg
from score_env.config.policy import PolicyConfig, SamplingConfig


class ScalingConfig(Strict):
    """Inference-compute scaling (PAPER.md, "Metrics"): a budget of 2K samples per problem, spent as 2K parallel
    first attempts (majority vote) or K first attempts each followed by one correction (vote over the K)."""

    problems: int = Field(40, ge=0)
    """Problems to measure it on (0 = skip the analysis)."""
    max_k: PositiveInt = 16
    """K goes 1, 2, 4, ... up to this."""
    temperature: float = Field(0.7, gt=0)
    """Sampling temperature (the paper: 0.7)."""
    methods: list[str] = ["prompting", "score"]  # noqa: RUF012  (pydantic copies defaults)
    """Which methods to measure it for (the paper: the base model and SCoRe)."""


class BenchmarkConfig(Strict):
    """Train every method with the same budget, evaluate greedily on a held-out split, write a report."""

    env: str = "arithmetic"
    """Env id or short name the methods train on."""
    eval_env: str | None = None
    """Env they are evaluated on (null = ``env``; the paper trains on MBPP and evaluates on HumanEval)."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task."""
    train_split: str = "train"
    """Split the methods train on."""
    eval_split: str = "test"
    """Held-out split they are evaluated on."""
    eval_problems: PositiveInt | None = 200
    """Evaluate on the first N problems of the eval split (null = all)."""
    model: str = "embedded"
    """Base model: ``embedded`` (score-env's own arithmetic model), a local path or a hub name."""
    methods: list[str] = [  # noqa: RUF012  (pydantic copies defaults)
        "prompting",
        "sft",
        "star_plus",
        "score",
        "score_single_turn",
        "score_no_stage1",
        "score_no_shaping",
    ]
    """Agent files of configs/agents/ to compare (the first one must be ``prompting``: the base model)."""
    updates: PositiveInt = 150
    """Gradient updates per trained method (SCoRe: split between the stages; STaR: over its iterations)."""
    problems_per_update: PositiveInt = 8
    """P: problems per update; every trained method samples updates x P x k episodes in all."""
    samples: PositiveInt = 4
    """k: episodes per problem."""
    lr: float | None = Field(None, gt=0)
    """One learning rate for every trained method (null = each agent's own, the paper's for its large models)."""
    policy: PolicyConfig = PolicyConfig()
    """How the model runs."""
    train_sampling: SamplingConfig = SamplingConfig(temperature=1.0, max_new_tokens=48)
    """Sampling of training attempts (the paper: temperature 1.0)."""
    eval_max_new_tokens: PositiveInt = 48
    """Longest evaluated attempt (evaluation is greedy, as in the paper)."""
    scaling: ScalingConfig = ScalingConfig()
    """The inference-compute scaling analysis."""
    distribution_shift: bool = True
    """Measure each trained method's correction rate on the base model's first attempts vs its own."""
    checkpoint_every: PositiveInt = 50
    """Updates between a method's training checkpoints (an interrupted benchmark resumes from the last)."""
    grading_threads: PositiveInt = 8
    """Attempts graded at once."""
    seed: int = 0
    """Seeds every method's training and sampling identically."""
    report_dir: str | None = None
    """Where to write the report (null = ``runs/benchmark-<env>-<time>``); a rerun skips methods already done."""

    @property
    def budget(self) -> Budget:
        """What every trained method spends: the same updates and sampled episodes."""
        return Budget(self.updates, self.problems_per_update, self.samples)
