"""score-env: a two-attempt Gymnasium env for intrinsic self-correction, pluggable agents, the SCoRe learner.

The names a user needs to define and register a task and to play an env with a policy. The jobs of the command
line (evaluate, train, benchmark, ...) are functions in :mod:`score_env.api`.
"""

from score_env.env import SelfCorrectionEnv
from score_env.metrics import self_correction_metrics
from score_env.policies import Policy, SamplingParams
from score_env.records import Attempt, Completion, Episode, EpisodeGroup, Grade, GradeReason, Message, Problem
from score_env.registry import register_task, registered_tasks
from score_env.rollout import collect_episodes
from score_env.task import PromptTask, Task

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
    "collect_episodes",
    "register_task",
    "registered_tasks",
    "self_correction_metrics",
]
__version__ = "0.1.0"
