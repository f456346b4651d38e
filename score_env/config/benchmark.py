"""``score-env benchmark`` and ``score-env sweep``: correction methods side by side, on one budget and one protocol."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from score_env.config.agents import Budget
from score_env.config.base import Imports, Strict
from score_env.config.commands import EnvArg
from score_env.config.policy import PolicyConfig, SamplingConfig, check_tracker


class ScalingConfig(Strict):
    """Inference-compute scaling (docs/paper.md, "Metrics"): a budget of 2K samples per problem, spent as 2K parallel
    first attempts (majority vote) or K first attempts each followed by one correction (vote over the K)."""

    problems: int = Field(0, ge=0)
    """Problems to measure it on (0 = skip the analysis; ``benchmark_full``: 40)."""
    max_k: PositiveInt = 16
    """K goes 1, 2, 4, ... up to this."""
    temperature: float = Field(0.7, gt=0)
    """Sampling temperature (the paper: 0.7)."""
    methods: list[str] = ["prompting", "score"]  # noqa: RUF012  (pydantic copies defaults)
    """Which methods to measure it for (the paper: the base model and SCoRe)."""


class SampledEvalConfig(Strict):
    """Evaluation by sampling beside the greedy one: every metric averaged over ``samples`` episodes per problem at
    ``temperature`` (later work reports avg@32), and the compute-matched baselines pass@2 and majority@2 over
    independent first attempts."""

    problems: int = Field(100, ge=0)
    """Problems (the first N of the evaluated ones; 0 = skip it)."""
    samples: int = Field(4, ge=2)
    """Episodes per problem (at least 2, for pass@2 and majority@2)."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature (training's)."""


class BenchmarkConfig(Strict):
    """Train every method with the same budget, evaluate on held-out problems, write a report.

    The protocol, fixed before any run and the same for every method: ``updates`` gradient updates and
    ``updates x problems_per_update x samples`` sampled training episodes each; the learning rate per method from
    ``lrs`` (chosen by ``score-env sweep`` on the validation problems, never on the test split); greedy evaluation on
    ``eval_problems`` held-out problems, plus the sampled evaluation; every seed of ``seeds``.
    """

    imports: Imports = []  # noqa: RUF012  (pydantic copies defaults)
    """Modules (or .py files) to import first: the ones that register your own tasks (``import=my_tasks``)."""
    env: str = "arithmetic"
    """Env id or short name the methods train on."""
    eval_env: str | None = None
    """Env they are evaluated on (null = ``env``; the paper trains on MBPP and evaluates on HumanEval)."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task."""
    train_split: str = "train"
    """Split the methods train on."""
    validation_problems: int = Field(200, ge=0)
    """The last N problems of the train split are never trained on: the sweep's validation set."""
    eval_split: str = "test"
    """Held-out split they are evaluated on."""
    eval_problems: PositiveInt | None = None
    """Evaluate on the first N problems of the eval split (null = all: 500 for the embedded task, for power)."""
    model: str = "embedded"
    """Base model: ``embedded`` (score-env's own arithmetic model), a local path or a hub name."""
    methods: list[str] = [  # noqa: RUF012  (pydantic copies defaults)
        "prompting",
        "sft",
        "star_plus",
        "score",
        "score_single_turn",
    ]
    """Agent files of configs/agents/ to compare (the first one must be ``prompting``: the base model). The default
    answers the paper's question (single-turn RL is the compute reference); ``benchmark_full`` adds the ablations and
    PAG."""
    updates: PositiveInt = 96
    """Gradient updates per trained method (SCoRe: split between the stages; STaR: over its iterations)."""
    problems_per_update: PositiveInt = 8
    """P: problems per update; every trained method samples updates x P x k episodes in all."""
    samples: PositiveInt = 8
    """k: episodes per problem."""
    lrs: dict[str, PositiveFloat] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Learning rate per method (a name of ``methods``); a method not listed keeps its agent's (the paper's)."""
    policy: PolicyConfig = PolicyConfig()
    """How the model runs."""
    train_sampling: SamplingConfig = SamplingConfig(temperature=1.0, max_new_tokens=128)
    """Sampling of training attempts (the paper: temperature 1.0)."""
    eval_max_new_tokens: PositiveInt = 128
    """Longest evaluated attempt (evaluation is greedy, as in the paper)."""
    sampled_eval: SampledEvalConfig = SampledEvalConfig()
    """The evaluation by sampling and the compute-matched baselines."""
    scaling: ScalingConfig = ScalingConfig()
    """The inference-compute scaling analysis."""
    distribution_shift: bool = True
    """Measure each trained method's correction rate on the base model's first attempts vs its own."""
    ceiling_samples: int = Field(0, ge=0)
    """The base model's correction ceiling: wrong first attempts right in at least one of N sampled second attempts
    (0 = skip it; ``benchmark_full``: 16)."""
    probe_problems: int = Field(200, ge=0)
    """The learning check's probe: on the first N validation problems, each trained method's greedy Acc@t1 and its
    fix rate on the base model's frozen greedy first attempts, before training, at each stage's end and at the end
    (``probes.jsonl``; 0 = off)."""
    checkpoint_every: PositiveInt = 10
    """Updates between a method's training checkpoints (an interrupted benchmark resumes from the last)."""
    grading_threads: PositiveInt = 8
    """Attempts graded at once."""
    workers: int = Field(1, ge=0)
    """Runs (seed x method) at once, each in its own process with its share of the cores as torch threads (1 = all in
    the command's process; 0 = one per core on CPU, one on a GPU). Changes how fast, not what is computed. On the
    reference 2-core machine 2 workers measured 0.97x the main job's speed (README: torch's second thread already
    keeps both cores busy); machines with more cores than a small model's ops can use gain more."""
    seeds: list[int] = Field([0], min_length=1)
    """Every method runs once per seed (training and sampling); the report gives per-seed values, the mean and
    the spread, and marks the differences between methods that hold across seeds."""
    report_dir: str | None = None
    """Where to write the report (null = ``runs/benchmark-<env>-<time>``); a rerun skips what is done."""
    tensorboard: bool = False
    """Log each method's training to TensorBoard (``seed-<s>/<method>/train/tensorboard/``; the tensorboard extra)."""
    wandb: bool = False
    """Log each method's training to Weights & Biases (a run per method and seed, grouped by the report directory's
    name) and the results table as one more run (the wandb extra; ``wandb login`` or ``WANDB_MODE=offline``)."""

    _trackers_installed = field_validator("tensorboard", "wandb")(check_tracker)

    @field_validator("seeds", "methods")
    @classmethod
    def _each_once(cls, values: list) -> list:
        """A seed or method named twice would run twice into one directory: refused."""
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} given more than once: each runs once")
        return values

    @property
    def budget(self) -> Budget:
        """What every trained method spends: the same updates and sampled episodes."""
        return Budget(self.updates, self.problems_per_update, self.samples)


class SweepConfig(Strict):
    """``score-env sweep``: choose each trained method's learning rate from ``grid`` by its greedy Acc@t2 on the
    benchmark's validation problems (the last ``validation_problems`` of the train split), with the benchmark's
    budget and its first seed. It never looks at the test split."""

    benchmark: str = "benchmark"
    """The benchmark preset (a name or a YAML path) whose methods, budget and validation problems the sweep uses."""
    grid: list[PositiveFloat] = [3e-5, 1e-4, 3e-4, 1e-3]  # noqa: RUF012  (pydantic copies defaults)
    """Learning rates to try for every trained method."""
    report_dir: str | None = None
    """Where to write the sweep (null = ``runs/sweep-<env>-<time>``); a rerun skips what is done."""
