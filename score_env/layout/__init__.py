"""Run directories, file by file: the one package that names what a run writes where (``runs``: a command's or an
evaluation's own directory; ``benchmark``: a report's and a sweep's).

Every command that writes a run directory writes it through one of these layouts, and every reader (resume,
``score-env view``, the report, the benchmark scripts) finds its files through the same layout, so a file name is
spelled here and nowhere else. A layout is a frozen path and its properties; it creates and reads nothing.

- :class:`EvalLayout`: ``score-env eval``, and every evaluation inside a benchmark (``config.yaml``,
  ``episodes.jsonl``, ``metrics.json``; ``model.json`` when it evaluated a training run's checkpoint;
  ``correction.json`` and ``own-first/`` when it corrected recorded first attempts; ``metrics.regraded.json``,
  ``regrade_changes.jsonl`` and ``correction.regraded.json`` once ``score-env regrade`` re-graded it).
- :class:`TrainLayout`: ``score-env train``, and a benchmark method's ``train/`` (``config.yaml``, ``metrics.jsonl``,
  ``samples.jsonl``, ``probes.jsonl``, ``alarms.txt``, ``data/<name>.json``, ``tensorboard/``,
  ``checkpoints/index.json`` and ``checkpoints/step-NNNNNN/`` as :class:`CheckpointLayout`).
- :class:`BenchmarkLayout`: ``score-env benchmark`` (``config.yaml``, ``results.json``, ``results.md``, the plots,
  ``first-attempts/``, ``validation-first-attempts/``, and ``seed-<s>/<method>/`` as :class:`MethodLayout`).
- :class:`MethodLayout`: one method of one seed (``result.json`` or ``error.txt``, ``profile.json``, ``train/``,
  ``eval/``, ``fixed/``, ``sampled/``, ``sampled/fixed/``, ``analyses/scaling/{one,two}/``, ``analyses/ceiling/``).
- :class:`SweepLayout`: ``score-env sweep`` (``sweep.json``, ``lrs.yaml``, ``<method>/lr-<rate>/``).
- :class:`ValidateLayout`: ``score-env validate`` (``validate.json``).

Each directory may also hold ``view.html`` (``score-env view``).
"""

from score_env.layout.benchmark import BenchmarkLayout, MethodLayout, ScalingLayout, SweepLayout
from score_env.layout.runs import (
    CONFIG,
    EPISODES,
    LOCK,
    PROFILE,
    VIEW,
    CheckpointLayout,
    EvalLayout,
    TrainLayout,
    ValidateLayout,
)

__all__ = [
    "CONFIG",
    "EPISODES",
    "LOCK",
    "PROFILE",
    "VIEW",
    "BenchmarkLayout",
    "CheckpointLayout",
    "EvalLayout",
    "MethodLayout",
    "ScalingLayout",
    "SweepLayout",
    "TrainLayout",
    "ValidateLayout",
]
