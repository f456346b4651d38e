"""The settings of each command (eval, train, pretrain, tiny-model; the benchmark's are in ``benchmark.py``).

Validated once, by pydantic, after OmegaConf has merged files and overrides. Every field has a docstring and its one
default here (presets in ``configs/`` only record what differs); ``extra="forbid"`` so a typo is an error.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from score_env.config.agents import AgentConfig, EpisodeSettings, TrainedAgentConfig, agent_config
from score_env.config.base import Imports, Strict
from score_env.config.policy import LoraConfig, PolicyConfig, SamplingConfig, check_tracker, require
from score_env.env import check_episode_settings

EnvArg = int | float | str | bool | list[int | float | str | bool] | None


class EvalConfig(Strict):
    """``score-env eval``: play the env with an agent's policy and measure self-correction."""

    agent: AgentConfig = Field(default_factory=lambda: agent_config("prompting"))
    """Which agent answers (``agent=<name>`` loads ``configs/agents/<name>.yaml``)."""
    imports: Imports = []  # noqa: RUF012  (pydantic copies defaults)
    """Modules (or .py files) to import first: the ones that register your own tasks or agents (``import=my_tasks``)."""
    env: str = "arithmetic"
    """Env id (``score/Arithmetic-v0``) or short name (``arithmetic``)."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task (e.g. ``env_kwargs.digits=3``)."""
    split: str = "test"
    """Problem split to evaluate on."""
    limit: PositiveInt | None = None
    """Evaluate only the first ``limit`` problems (null = all)."""
    samples: PositiveInt = 1
    """Episodes per problem (k)."""
    max_attempts: PositiveInt | None = None
    """Attempts per episode (null = the agent's: 2 in the paper)."""
    feedback: Literal["intrinsic", "oracle"] | None = None
    """``intrinsic`` (the paper's setting) or ``oracle`` (tells the model whether it was right: a different setting,
    never mixed into the intrinsic results); null = the agent's."""
    stop: Literal["fixed", "model_decides", "on_correct"] | None = None
    """Who ends an episode: ``fixed`` (after max_attempts), ``model_decides`` (its own verdict), ``on_correct``
    (oracle only: the first right answer); null = the agent's."""

    def episode(self) -> EpisodeSettings:
        """The agent's episode settings, with what this config sets explicitly."""
        own = self.agent.episode()
        return EpisodeSettings(
            self.max_attempts or own.max_attempts, self.feedback or own.feedback, self.stop or own.stop
        )

    model: str
    """Local path or hub name of the model."""
    policy: PolicyConfig = PolicyConfig()
    """How the model runs."""
    sampling: SamplingConfig = SamplingConfig()
    """Decoding settings."""
    problems_per_batch: PositiveInt = 64
    """Problems per rollout call; episodes are appended to ``episodes.jsonl`` after each."""
    grading_threads: PositiveInt = 8
    """Attempts graded at once."""
    bootstrap: PositiveInt = 1000
    """Bootstrap resamples for the confidence intervals."""
    seed: int = 0
    """Seeds envs, sampling and the bootstrap."""
    run_dir: str | None = None
    """Where to write the run (null = ``runs/eval-<env>-<agent>-<time>``)."""
    checkpoint: Literal["best", "last"] = "best"
    """When ``model`` is a training run directory: its best (highest training reward) or last checkpoint."""
    first_attempts: str | None = None
    """A run directory whose recorded first attempts this model corrects (an eval run, or a benchmark report's
    ``first-attempts/`` or ``seed-<s>/<method>/eval/``): attempt 1 is replayed, attempt 2 is this model's, and the
    fix rate, break rate and re-solve control are written to ``correction.json`` (null = its own first attempts)."""

    @model_validator(mode="after")
    def _episode_makes_sense(self) -> EvalConfig:
        check_episode_settings(*astuple(self.episode()))
        return self

    @model_validator(mode="after")
    def _samples_differ(self) -> EvalConfig:
        if self.samples > 1 and self.sampling.temperature == 0:
            raise ValueError(
                f"samples={self.samples} at sampling.temperature=0 would repeat the same greedy episode "
                f"{self.samples} times: set sampling.temperature above 0, or samples=1"
            )
        return self


class TrainConfig(Strict):
    """``score-env train``: train an agent on an env's training split, checkpointing as it goes."""

    agent: TrainedAgentConfig = Field(default_factory=lambda: agent_config("score"))
    """Which method (``agent=<name>`` loads ``configs/agents/<name>.yaml``)."""
    imports: Imports = []  # noqa: RUF012  (pydantic copies defaults)
    """Modules (or .py files) to import first: the ones that register your own tasks or agents (``import=my_tasks``)."""
    env: str = "arithmetic"
    """Env id or short name."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task."""
    split: str = "train"
    """Split to train on."""
    holdout: int = Field(0, ge=0)
    """The last N problems of the split are never drawn for training (kept for validation)."""
    model: str
    """The base model: local path or hub name (also the frozen reference of the KL terms)."""
    policy: PolicyConfig = PolicyConfig()
    """How the model runs."""
    lora: LoraConfig | None = None
    """null = train all weights (the reference is a frozen copy); set = train a LoRA adapter (needs peft)."""
    sampling: SamplingConfig = SamplingConfig(temperature=1.0)
    """Sampling of training attempts (the paper: temperature 1.0)."""
    problems_per_step: PositiveInt = 8
    """Problems per RL update (P); each gets ``samples`` episodes."""
    samples: PositiveInt = 4
    """Episodes per problem (k), the RLOO group."""
    checkpoint_every: PositiveInt = 10
    """Updates between checkpoints."""
    max_grad_norm: float | None = Field(1.0, gt=0)
    """Clip the gradient to this norm before every update (null = no clipping; the paper does not say)."""
    tensorboard: bool = False
    """Also log each update's metrics to TensorBoard, in ``<run dir>/tensorboard/`` (needs the tensorboard extra)."""
    wandb: bool = False
    """Also log each update's metrics to Weights & Biases (needs the wandb extra and ``wandb login``, or
    ``WANDB_MODE=offline`` to keep them in ``<run dir>/wandb/``; ``WANDB_PROJECT`` names the project, score-env by
    default)."""
    grading_threads: PositiveInt = 8
    """Attempts graded at once."""
    seed: int = 0
    """Seeds problem draws and sampling; a resumed run repeats them exactly."""
    run_dir: str | None = None
    """Where to write the run (null = ``runs/train-<env>-<agent>-<time>``)."""
    resume: str | None = None
    """A run directory to continue from its last checkpoint, with its own config (``resume=<dir>`` alone)."""
    keep_checkpoints: PositiveInt = 3
    """How many of the latest checkpoints to keep (the best by training reward is kept as well)."""

    _trackers_installed = field_validator("tensorboard", "wandb")(check_tracker)

    @field_validator("policy")
    @classmethod
    def _trains_local_weights(cls, policy: PolicyConfig) -> PolicyConfig:
        if policy.served:
            raise ValueError("training needs the model's weights in this process; policy.backend=openai only samples "
                             "a served model (score-env eval, or benchmark methods=[prompting])")  # fmt: skip
        return policy

    @field_validator("lora")
    @classmethod
    def _peft_installed(cls, lora: LoraConfig | None) -> LoraConfig | None:
        if lora is not None:
            require("peft", "lora")
        return lora


class TinyModelConfig(Strict):
    """``score-env tiny-model``: a randomly initialised tiny Llama with a tokenizer trained on an env's text."""

    out: str
    """Directory to write the model and tokenizer to."""
    env: str = "arithmetic"
    """Env whose prompts train the tokenizer."""
    vocab_size: PositiveInt = 512
    """BPE vocabulary size."""
    hidden_size: PositiveInt = 64
    """Model width."""
    layers: PositiveInt = 2
    """Transformer blocks."""
    seed: int = 0
    """Seeds the weights."""


class PretrainConfig(Strict):
    """``score-env pretrain``: the embedded default model, trained from scratch on the arithmetic task."""

    out: str
    """Directory to write the model and tokenizer to."""
    conversations: PositiveInt = 40_000
    """Pretraining conversations (two attempts each; envs/arithmetic_corpus.py gives the design and its rates)."""
    hidden_size: PositiveInt = 128
    """Model width."""
    layers: PositiveInt = 4
    """Transformer blocks."""
    heads: PositiveInt = 4
    """Attention heads."""
    epochs: PositiveInt = 4
    """Passes over the corpus."""
    batch_tokens: PositiveInt = 8192
    """Padded tokens per update."""
    lr: float = Field(3e-3, gt=0)
    """Peak AdamW learning rate (one-cycle schedule)."""
    seed: int = 0
    """Seeds the corpus, the tokenizer, the weights and the data order."""


class ValidateConfig(Strict):
    """``score-env validate``: prove an env's reward on a sample of its problems before training on it (the checks
    and what a failure means: ``score_env/validate/checks.py``, printed by ``score-env validate --help``)."""

    env: str
    """Env id or short name (a user's own with ``import=``)."""
    imports: Imports = []  # noqa: RUF012  (pydantic copies defaults)
    """Modules (or .py files) to import first: the ones that register your own tasks (``import=my_tasks``)."""
    split: str | None = None
    """Split to sample from (null = ``test`` where the env has one, else its first)."""
    env_kwargs: dict[str, EnvArg] = {}  # noqa: RUF012  (pydantic copies defaults)
    """Extra arguments of the env's task (e.g. ``env_kwargs.timeout_s=3``)."""
    sandbox: str | None = None
    """A code task's isolation backend (``bwrap``, ``process``, ``docker``; null = the task's ``auto``): the same as
    ``env_kwargs.sandbox``."""
    problems: PositiveInt = 4
    """Problems to sample (the canaries that are slow by design run on the first only)."""
    seed: int = 0
    """Seeds the sample of problems and the random-text answers."""
    limit_s: float | None = Field(None, gt=0)
    """The longest one answer may take to grade (null = twice the task's ``timeout_s`` plus 5 s, else 30 s); a grader
    taking three times that is hung and stops the battery."""
    run_dir: str | None = None
    """Where to write ``validate.json`` (null = ``runs/validate-<env>-<time>``)."""

    def task_kwargs(self) -> dict[str, EnvArg]:
        """``env_kwargs`` with ``sandbox`` in it when given."""
        return {**self.env_kwargs, **({"sandbox": self.sandbox} if self.sandbox else {})}
