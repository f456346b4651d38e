"""Multi-turn STaR (as the SCoRe paper runs it): collect two-attempt traces at temperature 1.0, keep the ones where
an incorrect attempt 1 became a correct attempt 2 (and, with ``keep_correct_pairs``, correct→correct: STaR+),
fine-tune on attempt 2 given [x, y1, p]; repeat for ``iterations`` rounds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Literal, Self

from pydantic import PositiveFloat, PositiveInt

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.learner.stages import even_split
from score_env.policies import ModelPolicy, Policy
from score_env.records import Episode, Message, flatten
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession
from score_env.training.sft import epoch_updates, sft_updates
from score_env.training.streams import ROUND_STEP, Stream


class StarAgentConfig(Strict):
    """Multi-turn STaR: collect two-attempt traces at temperature 1.0, keep wrong→right ones (and right→right ones
    with ``keep_correct_pairs``: the paper's STaR+), fine-tune on attempt 2 given [x, y1, p], repeat."""

    kind: Literal["star"] = "star"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
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


@dataclass(frozen=True)
class StarAgent:
    config: StarAgentConfig
    base_policy: ModelPolicy
    name: str = "star"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        problems = even_split(c.problems, c.iterations)
        budget = even_split(c.updates, c.iterations) if c.updates else [None] * c.iterations
        step = 0
        for iteration in range(c.iterations):
            if not problems[iteration]:
                continue
            traces = session.load_data(f"iteration-{iteration}")
            if traces is None:
                groups = collect_episodes(
                    partial(plan.env, 2),
                    self.base_policy,
                    session.problem_batch(ROUND_STEP + iteration, plan.n_problems, problems[iteration]),
                    plan.sampling,
                    samples_per_problem=plan.samples_per_problem,
                    seed=session.step_seed(iteration, Stream.STAR_ROUND),
                    grading_threads=plan.grading_threads,
                )
                episodes = flatten(groups)
                traces = keep_traces(episodes, c.keep_correct_pairs)
                session.save_data(f"iteration-{iteration}", traces, episodes=len(episodes))
            examples = [(tuple(Message.from_dict(m) for m in t["prompt"]), t["target"]) for t in traces]
            updates = budget[iteration]
            if updates is None:
                updates = epoch_updates(len(examples), c.batch_size, c.epochs)
            if not examples or not session.steps(updates, step):
                step += updates if examples else 0
                continue  # nothing to learn from, or done before the run was resumed
            step = sft_updates(
                session,
                examples,
                batch_size=c.batch_size,
                updates=updates,
                first_step=step,
                stage=iteration,
                stage_name=f"star-{iteration + 1}",
            )


def keep_traces(episodes: list[Episode], keep_correct_pairs: bool) -> list[dict]:
    """Attempt-2 targets of the traces STaR keeps: wrong→right, plus right→right for STaR+."""
    kept = []
    for episode in episodes:
        first, second = episode.attempts[0], episode.attempts[1]
        if second.grade.correct and (not first.grade.correct or keep_correct_pairs):
            kept.append({"prompt": [m.as_dict() for m in second.prompt], "target": list(second.token_ids)})
    return kept


register_agent("star", StarAgentConfig, StarAgent)
