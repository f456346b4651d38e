"""Where a training run's per-update metrics go besides ``metrics.jsonl``: TensorBoard, Weights & Biases.

A :class:`Tracker` takes one update's metrics; ``open_trackers`` builds the ones a config asks for. ``metrics.jsonl``
stays the record (``score-env view``, the benchmark and resume read it); a tracker is a window onto it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from score_env.layout import TrainLayout

WANDB_PROJECT = "score-env"  # unless WANDB_PROJECT says otherwise


class Tracker(Protocol):
    def log(self, metrics: Mapping[str, float], step: int) -> None: ...

    def close(self) -> None: ...


class TensorBoardTracker:
    """``tensorboard=true``: event files in ``<run dir>/tensorboard/``."""

    def __init__(self, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(TrainLayout(run_dir).tensorboard))

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        self.writer.close()


class WandbTracker:
    """``wandb=true``: one W&B run per training run, its id fixed by the run directory, so a resumed run continues
    the same W&B run. Its files go under ``<run dir>/wandb/``; ``WANDB_MODE=offline`` keeps them there (``wandb sync``
    uploads them later)."""

    def __init__(self, run_dir: Path, name: str, config: Mapping[str, Any], group: str | None = None) -> None:
        import wandb

        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", WANDB_PROJECT),
            id=wandb_run_id(run_dir),
            name=name,
            group=group,
            dir=str(run_dir),  # wandb writes into <dir>/wandb: TrainLayout.wandb
            config=dict(config),
            resume="allow",
            reinit="create_new",
        )

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        self.run.log(dict(metrics), step=step)

    def close(self) -> None:
        self.run.finish()


def wandb_run_id(run_dir: Path) -> str:
    """A W&B run id that only the run directory decides (W&B ids: up to 64 of [a-z0-9_-])."""
    return hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:24]


def open_trackers(
    run_dir: Path,
    *,
    tensorboard: bool,
    wandb: bool,
    name: str,
    config: Mapping[str, Any],
    group: str | None = None,
) -> list[Tracker]:
    trackers: list[Tracker] = []
    if tensorboard:
        trackers.append(TensorBoardTracker(run_dir))
    if wandb:
        trackers.append(WandbTracker(run_dir, name, config, group))
    return trackers


def wandb_results(report_dir: Path, results: list[dict[str, Any]]) -> None:
    """A benchmark's results as one W&B run (``<report>/results``, in the group of its methods' training runs): a
    table with a row per method and seed, each headline estimate and its 95% interval."""
    import wandb

    keys = sorted({k for r in results if r.get("status") == "done" for k in r["report"]["estimates"]})
    columns = ["method", "seed", "status", *(f"{k}{part}" for k in keys for part in ("", " low", " high"))]
    rows = []
    for r in results:
        estimates = r.get("report", {}).get("estimates", {}) if r.get("status") == "done" else {}
        cells = [(estimates.get(k) or {}).get(part) for k in keys for part in ("value", "low", "high")]
        rows.append([r["name"], r["seed"], r.get("status"), *cells])
    run = wandb.init(
        project=os.environ.get("WANDB_PROJECT", WANDB_PROJECT),
        id=wandb_run_id(report_dir / "results"),
        name=f"{report_dir.name}/results",
        group=report_dir.name,
        dir=str(report_dir),
        resume="allow",
        reinit="create_new",
    )
    run.log({"results": wandb.Table(columns=columns, data=rows)})
    run.finish()
