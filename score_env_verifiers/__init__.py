"""score-env's taskset for verifiers 0.4: ``--env.taskset.id score_env_verifiers`` (``[env.taskset] id =
"score_env_verifiers"`` in a TOML config). verifiers loads a taskset, its environment and its default harness from
the ``__all__`` of a top-level package named by the id, so this package only names them; they live in
:mod:`score_env.adapters.verifiers_v1`, which says how they play a score env.
"""

from score_env.adapters.verifiers_v1 import ScoreEnv, ScoreReplyHarness, ScoreTaskset

__all__ = ["ScoreEnv", "ScoreReplyHarness", "ScoreTaskset"]
