"""The seam between the training setup and every correction method: an :class:`Agent`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from score_env.policies import Policy, SamplingParams
from score_env.registry import EnvFactory

if TYPE_CHECKING:
    from score_env.training.session import TrainingSession


@dataclass(frozen=True)
class TrainingPlan:
    """What every trained agent shares: where problems come from and how attempts are sampled."""

    env: EnvFactory  # the training split's envs: env(max_attempts); agents set their own feedback and stop on it
    n_problems: int  # size of the training split
    problems_per_step: int  # P
    samples_per_problem: int  # k
    sampling: SamplingParams  # temperature 1.0 in the paper
    grading_threads: int


@runtime_checkable
class Agent(Protocol):
    """A correction method. Prompting answers with the base model; trained agents change its weights first.

    ``policy`` is what the rollout loop and ``score-env eval`` play the env with; ``train`` updates it in place
    (a no-op for prompting).
    """

    name: str

    @property
    def policy(self) -> Policy: ...

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None: ...
