"""Pair-SFT (after Welleck et al., 2023, as the SCoRe paper runs it).

Sample the model's own two-attempt episodes; for every incorrect attempt, pair it with a random correct response to
the same problem drawn from all of the model's first and second attempts; fine-tune on
(problem, wrong attempt, correction instruction) → right response (one epoch, or the budget's number of updates).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Literal, Self

import numpy as np
from pydantic import PositiveFloat, PositiveInt

from score_env.config.agents import Budget, EpisodeSettings, register_agent
from score_env.config.base import Strict
from score_env.policies import ModelPolicy, Policy
from score_env.records import Episode, Message, flatten
from score_env.rollout import collect_episodes
from score_env.training.agent import TrainingPlan
from score_env.training.session import TrainingSession
from score_env.training.sft import epoch_updates, sft_updates
from score_env.training.streams import Stream


class SFTAgentConfig(Strict):
    """Pair-SFT (Welleck et al., 2023, as in SCoRe): pair each wrong attempt with a random right response to the same
    problem from all of the model's attempts; SFT on (problem, wrong attempt, instruction) → right."""

    kind: Literal["sft"] = "sft"
    """Agent type (the registry's key)."""
    trains: ClassVar[bool] = True
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


@dataclass(frozen=True)
class SFTAgent:
    config: SFTAgentConfig
    base_policy: ModelPolicy
    name: str = "sft"

    @property
    def policy(self) -> Policy:
        return self.base_policy

    def train(self, session: TrainingSession, plan: TrainingPlan) -> None:
        c = self.config
        pairs = session.load_data("pairs")
        if pairs is None:  # collected once; a resumed run trains on the very same pairs
            groups = collect_episodes(
                partial(plan.env, 2),
                self.base_policy,
                session.problem_batch(0, plan.n_problems, c.problems),
                plan.sampling,
                samples_per_problem=plan.samples_per_problem,
                seed=session.step_seed(0, Stream.SAMPLING),
                grading_threads=plan.grading_threads,
            )
            episodes = flatten(groups)
            instruction = plan.env(2).unwrapped.task.correction_instruction
            pairs = make_pairs(episodes, instruction, c.max_pairs_per_problem, session.step_seed(0, Stream.PAIRS))
            session.save_data("pairs", pairs, episodes=len(episodes))
        examples = [(tuple(Message.from_dict(m) for m in p["prompt"]), p["target"]) for p in pairs]
        updates = c.updates or epoch_updates(len(examples), c.batch_size, c.epochs)
        session.show_progress(updates)
        sft_updates(
            session, examples, batch_size=c.batch_size, updates=updates, first_step=0, stage=0, stage_name="pair-sft"
        )


def make_pairs(episodes: list[Episode], instruction: str, per_problem: int, seed: int) -> list[dict]:
    """(x, y_wrong, p) → y_right pairs: y_right drawn at random from all correct attempts at x (first or second)."""
    rng = np.random.default_rng(seed)
    by_problem: dict[str, list[Episode]] = {}
    for episode in episodes:
        by_problem.setdefault(episode.problem_id, []).append(episode)
    pairs = []
    for group in by_problem.values():
        attempts = [a for e in group for a in e.attempts]
        right = [a for a in attempts if a.grade.correct]
        wrong = [a for a in attempts if not a.grade.correct and a.grade.reason != "error"]
        if not right:
            continue
        first_prompt = list(group[0].attempts[0].prompt)
        for y_wrong in wrong[:per_problem]:
            y_right = right[int(rng.integers(len(right)))]
            prompt = [*first_prompt, Message("assistant", y_wrong.text), Message("user", instruction)]
            pairs.append({"prompt": [m.as_dict() for m in prompt], "target": list(y_right.token_ids)})
    return pairs


register_agent("sft", SFTAgentConfig, SFTAgent)
