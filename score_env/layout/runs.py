"""Run directories of one command or one evaluation: the files of ``eval``, ``train`` (and its checkpoints) and
``validate`` (the package docstring lists them all)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG = "config.yaml"  # what the run was asked: runs.check_run_dir compares a rerun's config with it
VIEW = "view.html"  # score-env view's page
PROFILE = "profile.json"  # where a process's time went, per phase (benchmarks/main_job.py prints it)
EPISODES = "episodes.jsonl"
LOCK = ".lock"  # held (flock) by the run writing the directory: runs.run_lock


@dataclass(frozen=True)
class EvalLayout:
    """An evaluation's directory: the episodes it played and their metrics."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def episodes(self) -> Path:
        """One episode per line, appended after every batch (a torn last line is dropped on reading)."""
        return self.root / EPISODES

    @property
    def metrics(self) -> Path:
        """The ``SelfCorrectionReport``, written once the evaluation ends."""
        return self.root / "metrics.json"

    @property
    def model(self) -> Path:
        """The training run and checkpoint evaluated (only when ``model=`` named a training run)."""
        return self.root / "model.json"

    @property
    def correction(self) -> Path:
        """The fix and break rates on recorded first attempts (only with ``first_attempts=``)."""
        return self.root / "correction.json"

    @property
    def usage(self) -> Path:
        """A served model's (``policy.backend=openai``) requests and tokens."""
        return self.root / "usage.json"

    @property
    def metrics_regraded(self) -> Path:
        """The ``SelfCorrectionReport`` of the episodes as ``score-env regrade`` graded them again (beside
        ``metrics.json``, which is kept)."""
        return self.root / "metrics.regraded.json"

    @property
    def regrade_changes(self) -> Path:
        """One line per attempt (or self-verdict) whose grade ``score-env regrade`` changed: old and new grade."""
        return self.root / "regrade_changes.jsonl"

    @property
    def correction_regraded(self) -> Path:
        """The fix and break rates of the re-graded episodes (where attempt 1 was a fixed one: ``fixed/``, or
        ``first_attempts=``)."""
        return self.root / "correction.regraded.json"

    @property
    def own_first(self) -> EvalLayout:
        """The model's own first attempts, played beside the recorded ones (only with ``first_attempts=``)."""
        return EvalLayout(self.root / "own-first")

    @property
    def profile(self) -> Path:
        return self.root / PROFILE

    @property
    def view(self) -> Path:
        return self.root / VIEW


@dataclass(frozen=True)
class CheckpointLayout:
    """``checkpoints/step-NNNNNN/``: the weights with their tokenizer, and the training state."""

    root: Path

    @property
    def model(self) -> Path:
        """``save_pretrained`` weights and tokenizer: loadable by any HF code."""
        return self.root / "model"

    @property
    def state(self) -> Path:
        """Optimizer, RNG states, step, stage, training reward."""
        return self.root / "state.pt"

    @property
    def tokenizer(self) -> Path:
        return self.model / "tokenizer.json"


@dataclass(frozen=True)
class TrainLayout:
    """A training run's directory: its logs, the data it collected and its checkpoints."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def metrics_log(self) -> Path:
        """One line per update (``TrainingSession.end_step``)."""
        return self.root / "metrics.jsonl"

    @property
    def samples_log(self) -> Path:
        """A few episodes per update (``TrainingSession.record_samples``), for ``score-env view``."""
        return self.root / "samples.jsonl"

    @property
    def wandb(self) -> Path:
        """W&B's own folder (``wandb=true``): wandb makes it under the directory it is given, the run's."""
        return self.root / "wandb"

    @property
    def probes_log(self) -> Path:
        """What the probe measured at the start, at each stage's end and at the end."""
        return self.root / "probes.jsonl"

    @property
    def alarms(self) -> Path:
        """The collapse alarm, when the probe raised one (benchmark methods only)."""
        return self.root / "alarms.txt"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def data(self, name: str) -> Path:
        """Data an agent collected (SFT pairs), with the number of episodes it sampled for it."""
        return self.data_dir / f"{name}.json"

    def data_files(self) -> list[Path]:
        return sorted(self.data_dir.glob("*.json"))

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def checkpoint_index(self) -> Path:
        """Lists the checkpoints kept, and names the best and the last (``training.checkpoint.CheckpointIndex``)."""
        return self.checkpoints / "index.json"

    def checkpoint(self, name: str) -> CheckpointLayout:
        return CheckpointLayout(self.checkpoints / name)

    @staticmethod
    def checkpoint_name(step: int) -> str:
        return f"step-{step:06d}"

    def checkpoint_tmp(self, step: int) -> CheckpointLayout:
        """Where a checkpoint is written before it is renamed into place."""
        return CheckpointLayout(self.checkpoints / f".{self.checkpoint_name(step)}.tmp")

    def tokenizers(self) -> list[Path]:
        """Every checkpoint's tokenizer file, by step."""
        return sorted(self.checkpoints.glob(f"step-*/{CheckpointLayout(Path()).tokenizer}"))

    @property
    def view(self) -> Path:
        return self.root / VIEW


@dataclass(frozen=True)
class ValidateLayout:
    """``score-env validate``'s directory: ``validate.json`` (``score_env.validation.ValidationReport``)."""

    root: Path

    @property
    def report(self) -> Path:
        return self.root / "validate.json"

    @property
    def view(self) -> Path:
        return self.root / "view.html"
