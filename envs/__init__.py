"""Task environments. Importing this package registers them with Gymnasium under ``score/``.

The catalogue (read it like Gymnasium's ``envs/__init__.py``):
"""

from score_env.registry import register_task

register_task(
    "score/Arithmetic-v0",
    "envs.arithmetic:make_task",
    short_name="arithmetic",
    description="Procedural integer arithmetic (a + b * c); exact grader; CPU-sized toy task",
)
