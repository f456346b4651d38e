"""``score-env eval``: play an env with an agent's policy, write the episodes as they finish, report metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
from tqdm.auto import tqdm

from score_env.agent import Agent
from score_env.config import EvalConfig
from score_env.metrics import SelfCorrectionReport, self_correction_metrics
from score_env.rollout import collect_episodes
from score_env.runs import EPISODES, append_episodes, prepare_run_dir, write_metrics


def evaluate(config: EvalConfig, agent: Agent, make_env: Callable[[], gym.Env], run_dir: Path) -> SelfCorrectionReport:
    """Evaluate ``agent`` on the first ``config.limit`` problems; resumable from ``run_dir``.

    Problems are played ``config.problems_per_batch`` at a time; each batch's episodes are appended to
    ``episodes.jsonl`` before the next starts. Rerunning with the same ``run_dir`` and config skips the problems
    already done.
    """
    done = prepare_run_dir(run_dir, config.model_dump(mode="json"))
    probe = make_env()
    n_problems = len(probe.unwrapped.task.problems)
    probe.close()
    indices = list(range(min(config.limit or n_problems, n_problems)))
    finished = {e.problem_index for e in done}
    todo = [i for i in indices if i not in finished]
    episodes = [e for e in done if e.problem_index in set(indices)]
    with tqdm(total=len(indices), initial=len(indices) - len(todo), desc="eval", unit="problem") as bar:
        for start in range(0, len(todo), config.problems_per_batch):
            batch = todo[start : start + config.problems_per_batch]
            new = collect_episodes(
                make_env,
                agent.policy,
                batch,
                config.sampling.params(),
                samples_per_problem=config.samples,
                seed=config.seed + batch[0],  # a different sampler stream per batch
                grading_threads=config.grading_threads,
            )
            append_episodes(run_dir / EPISODES, new)
            episodes.extend(new)
            bar.update(len(batch))
    episodes.sort(key=lambda e: (e.problem_index, e.sample))
    report = self_correction_metrics(episodes, n_bootstrap=config.bootstrap, seed=config.seed)
    write_metrics(run_dir, report)
    return report
