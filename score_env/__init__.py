"""score-env: a two-attempt Gymnasium env for intrinsic self-correction, pluggable agents, the SCoRe learner.

The names a user needs to define and register a task and to play an env with a policy, and the three jobs as
functions (:func:`evaluate`, :func:`train`, :func:`benchmark`; see :mod:`score_env.api`), loaded on first use.
"""

from typing import Any

from score_env.env import SelfCorrectionEnv
from score_env.metrics import self_correction_metrics
from score_env.policies import Policy, SamplingParams
from score_env.records import Attempt, Completion, Episode, EpisodeGroup, Grade, GradeReason, Message, Problem
from score_env.registry import register_task, registered_tasks
from score_env.rollout import collect_episodes
from score_env.task import PromptTask, Task

_JOBS = ("evaluate", "train", "benchmark", "pretrain", "tiny_model")


def __getattr__(name: str) -> Any:
    # The jobs import torch, transformers and every env: only when asked for, not on `import score_env`.
    if name in _JOBS:
        from score_env import api

        return getattr(api, name)
    raise AttributeError(f"module 'score_env' has no attribute {name!r}")


__all__ = [
    "Attempt",
    "Completion",
    "Episode",
    "EpisodeGroup",
    "Grade",
    "GradeReason",
    "Message",
    "Policy",
    "Problem",
    "PromptTask",
    "SamplingParams",
    "SelfCorrectionEnv",
    "Task",
    "benchmark",
    "collect_episodes",
    "evaluate",
    "pretrain",
    "register_task",
    "registered_tasks",
    "self_correction_metrics",
    "tiny_model",
    "train",
]
__version__ = "0.1.0"
