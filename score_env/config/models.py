"""The typed configuration. Validated once, by pydantic, after OmegaConf has merged files and overrides.

Every field has a docstring; ``extra="forbid"`` everywhere so a typo is an error, not a silently ignored key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from score_env.policies import SamplingParams


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class PromptingAgentConfig(Strict):
    """The base model answering with the env's correction instruction; no training (Self-Refine style)."""

    kind: Literal["prompting"] = "prompting"
    """Agent type (the discriminator)."""


# One member now; the trained agents (sft, star, score) join this union.
AgentConfig = Annotated[PromptingAgentConfig, Field(discriminator="kind")]


class PolicyConfig(Strict):
    """How the model is loaded and run."""

    backend: Literal["transformers"] = "transformers"
    """Generation backend."""
    device: str = "cpu"
    """Torch device, e.g. ``cpu`` or ``cuda:0``."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Compute dtype (float32 on CPU: bfloat16 is slow there)."""
    batch_size: PositiveInt = 32
    """Rows per forward pass when generating."""


class SamplingConfig(Strict):
    """Decoding settings."""

    temperature: float = Field(0.0, ge=0.0)
    """0 = greedy (the paper evaluates greedily)."""
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    max_new_tokens: PositiveInt = 256
    """Longest attempt, in tokens."""

    def params(self, seed: int | None = None) -> SamplingParams:
        return SamplingParams(self.temperature, self.top_p, self.max_new_tokens, n=1, seed=seed)


class EvalConfig(Strict):
    """``score-env eval``: play the env with an agent's policy and measure self-correction."""

    agent: AgentConfig
    """Which agent answers (``agent=<name>`` loads ``configs/agents/<name>.yaml``)."""
    env: str
    """Env id (``score/Arithmetic-v0``) or short name (``arithmetic``)."""
    env_kwargs: dict[str, int | float | str | bool | list[int | float | str | bool] | None] = {}
    """Extra arguments of the env's task (e.g. ``env_kwargs.digits=3``)."""
    split: str = "test"
    """Problem split to evaluate on."""
    limit: PositiveInt | None = None
    """Evaluate only the first ``limit`` problems (null = all)."""
    samples: PositiveInt = 1
    """Episodes per problem (k)."""
    max_attempts: PositiveInt = 2
    """Attempts per episode (2 in the paper)."""
    feedback: Literal["intrinsic", "oracle"] = "intrinsic"
    """``intrinsic`` (the paper's setting) or ``oracle`` (tells the model whether it was right; comparison only)."""
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
