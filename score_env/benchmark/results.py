"""What the benchmark records per method: typed, frozen, and written as JSON (``methods/<name>/result.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from score_env.correction import CorrectionRates
from score_env.metrics import SelfCorrectionReport


@dataclass(frozen=True)
class ScalingCurve:
    """Inference-compute scaling: majority-vote accuracy at a budget of 2K samples per problem (docs/paper.md)."""

    k: tuple[int, ...]
    parallel: tuple[float, ...]  # 2K independent first attempts
    sequential: tuple[float, ...]  # K first attempts, each followed by one correction


@dataclass(frozen=True)
class ShiftRates:
    """Distribution shift: P(right at t2 | wrong at t1) on the model's own first attempts and on the base model's."""

    own_first_attempts: float
    base_first_attempts: float


@dataclass(frozen=True)
class PerProblem:
    """Per problem (mean over its samples): right at attempt 1 and at the final attempt, for paired tests."""

    problems: tuple[int, ...]
    first: tuple[float, ...]
    final: tuple[float, ...]
    i_to_c: tuple[float, ...]  # wrong at attempt 1, right at the final one
    c_to_i: tuple[float, ...]


@dataclass(frozen=True)
class ProbePoint:
    """The correction probe at one point of training, on validation problems (``benchmark/probe.py``)."""

    step: int
    stage: str
    acc_t1: float  # the policy's own greedy first attempts
    fix: float | None  # after the base model's wrong greedy first attempts
    broken: float | None  # after its right ones


@dataclass(frozen=True)
class SampledResult:
    """The evaluation by sampling: every metric averaged over ``samples`` episodes per problem at ``temperature``,
    and the compute-matched baselines over the independent first attempts of those episodes."""

    report: SelfCorrectionReport
    samples: int
    temperature: float
    pass_at_2: float  # P(at least one of two independent first attempts is right), unbiased from the samples
    majority_at_2: float  # a majority vote over two independent first attempts (a tie counts half)
    fixed: CorrectionRates | None = None  # sampled second attempts after the base model's greedy first attempts
    own: PerProblem | None = None  # per problem, for paired tests


@dataclass(frozen=True)
class MethodResult:
    """A method that trained (or not, for prompting) and was evaluated, for one seed."""

    name: str
    kind: str  # the agent kind
    seed: int
    lr: float | None  # the learning rate it trained with (None for prompting)
    updates: int  # gradient updates made
    episodes_sampled: int  # training episodes played
    report: SelfCorrectionReport  # greedy evaluation on the held-out problems
    generated_tokens: int  # in that evaluation
    wall_s: float  # training + evaluation + analyses
    sampled: SampledResult | None = None
    scaling: ScalingCurve | None = None
    shift: ShiftRates | None = None
    ceiling: float | None = None  # the base model's: wrong first attempts right in one of N sampled second ones
    setting: Literal["intrinsic", "oracle"] = "intrinsic"  # oracle: told whether it was right (reported apart)
    fixed: CorrectionRates | None = None  # greedy second attempts after the base model's greedy first attempts
    own: PerProblem | None = None  # the greedy evaluation per problem, for paired tests
    alarms: tuple[str, ...] = ()  # what the training run's log flagged (a collapse of attempt 1, ...)
    probes: tuple[ProbePoint, ...] = ()  # the learning check's probe during training (start, stage ends, end)
    status: Literal["done"] = "done"


@dataclass(frozen=True)
class MethodFailure:
    """A method that raised; the others went on. The traceback is in ``<method dir>/error.txt``."""

    name: str
    seed: int
    error: str  # "ExceptionType: message"
    status: Literal["failed"] = "failed"


MethodOutcome = Annotated[MethodResult | MethodFailure, Field(discriminator="status")]
_OUTCOME: TypeAdapter[MethodResult | MethodFailure] = TypeAdapter(MethodOutcome)


def write_outcome(path: Path, outcome: MethodResult | MethodFailure) -> None:
    from score_env.runs import write_atomic

    write_atomic(path, _OUTCOME.dump_json(outcome, indent=2).decode() + "\n")


def read_outcome(path: Path) -> MethodResult | MethodFailure:
    return _OUTCOME.validate_json(path.read_text())


def outcomes_json(outcomes: tuple[MethodResult | MethodFailure, ...]) -> bytes:
    """All methods' outcomes as one JSON list (``results.json``)."""
    return TypeAdapter(tuple[MethodOutcome, ...]).dump_json(outcomes, indent=2)
