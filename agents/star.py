"""Multi-turn STaR (as the SCoRe paper runs it): collect two-attempt traces at temperature 1.0, keep the ones where
an incorrect attempt 1 became a correct attempt 2 (and, with ``keep_correct_pairs``, correct→correct: STaR+),
fine-tune on attempt 2 given [x, y1, p]; repeat for ``iterations`` rounds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from score_env.agent import TrainingPlan
from score_env.config import StarAgentConfig
from score_env.learner.session import TrainingSession
from score_env.learner.sft import sft_epochs, steps_for
from score_env.policies import ModelPolicy, Policy
from score_env.records import Episode, Message
from score_env.rollout import collect_episodes


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
        step = 0
        for iteration in range(c.iterations):
            traces = session.load_data(f"iteration-{iteration}")
            if traces is None:
                episodes = collect_episodes(
                    partial(plan.make_env, 2),
                    self.base_policy,
                    session.problem_batch(10_000 + iteration, plan.n_problems, c.problems),
                    plan.sampling,
                    samples_per_problem=plan.samples_per_problem,
                    seed=session.step_seed(iteration, 7),
                    grading_threads=plan.grading_threads,
                )
                traces = keep_traces(episodes, c.keep_correct_pairs)
                session.save_data(f"iteration-{iteration}", traces)
            examples = [(tuple(Message.from_dict(m) for m in t["prompt"]), t["target"]) for t in traces]
            if session.step >= step + steps_for(len(examples), c.batch_size, c.epochs):
                step += steps_for(len(examples), c.batch_size, c.epochs)
                continue  # done before the run was resumed
            step = sft_epochs(
                session,
                examples,
                batch_size=c.batch_size,
                epochs=c.epochs,
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
