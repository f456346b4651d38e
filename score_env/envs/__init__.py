"""Task environments. Importing this package registers them with Gymnasium under ``score/``.

The catalogue (read it like Gymnasium's ``envs/__init__.py``):
"""

from score_env.registry import register_task

register_task(
    "score/Arithmetic-v0",
    "score_env.envs.arithmetic:make_task",
    short_name="arithmetic",
    description="Procedural integer arithmetic (a + b * c); exact grader; CPU-sized toy task",
)
register_task(
    "score/MATH-v0",
    "score_env.envs.math:make_task",
    short_name="math",
    description="MATH competition problems (train: 12k split, test: MATH-500); the paper's prompts; math-verify grader",
)
register_task(
    "score/HumanEval-v0",
    "score_env.envs.code:make_humaneval_task",
    short_name="humaneval",
    description="HumanEval, 164 Python problems, zero-shot; tests run in a sandbox with an unforgeable verdict",
    splits=("test",),
)
register_task(
    "score/MBPP-v0",
    "score_env.envs.code:make_mbpp_task",
    short_name="mbpp",
    description="MBPP, 974 Python tasks by the standard splits, 3-shot prompt; sandboxed tests (the paper trains here)",
    splits=("train", "validation", "test", "prompt"),
)
