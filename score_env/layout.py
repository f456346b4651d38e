"""Run directories, file by file: the one module that names what a run writes where.

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

Each directory may also hold ``view.html`` (``score-env view``).
"""

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
class ScalingLayout:
    """The inference-scaling analysis: ``max_k`` samples of two attempts, and of one, per problem."""

    root: Path

    @property
    def one(self) -> EvalLayout:
        return EvalLayout(self.root / "one")

    @property
    def two(self) -> EvalLayout:
        return EvalLayout(self.root / "two")


@dataclass(frozen=True)
class MethodLayout:
    """One method of one seed in a benchmark report (or one rate of a sweep)."""

    root: Path

    @property
    def result(self) -> Path:
        """The ``MethodResult``, written last: a rerun keeps a method that has one."""
        return self.root / "result.json"

    @property
    def error(self) -> Path:
        """The whole traceback of a method that failed."""
        return self.root / "error.txt"

    @property
    def profile(self) -> Path:
        return self.root / PROFILE

    @property
    def train(self) -> TrainLayout:
        return TrainLayout(self.root / "train")

    @property
    def eval(self) -> EvalLayout:
        """Greedy, on the method's own first attempts."""
        return EvalLayout(self.root / "eval")

    @property
    def fixed(self) -> EvalLayout:
        """Greedy attempt 2 after the base model's greedy first attempts (the fix and break rates)."""
        return EvalLayout(self.root / "fixed")

    @property
    def sampled(self) -> EvalLayout:
        return EvalLayout(self.root / "sampled")

    @property
    def sampled_fixed(self) -> EvalLayout:
        """Sampled attempt 2 after the base model's greedy first attempts."""
        return EvalLayout(self.sampled.root / "fixed")

    @property
    def scaling(self) -> ScalingLayout:
        return ScalingLayout(self.root / "analyses" / "scaling")

    @property
    def ceiling(self) -> EvalLayout:
        return EvalLayout(self.root / "analyses" / "ceiling")


@dataclass(frozen=True)
class BenchmarkLayout:
    """A benchmark report: the base model's first attempts, a directory per method and seed, the results."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def results(self) -> Path:
        """Every method's outcome (``MethodResult`` or ``MethodFailure``), written at the end."""
        return self.root / "results.json"

    @property
    def results_md(self) -> Path:
        return self.root / "results.md"

    @property
    def first_attempts(self) -> EvalLayout:
        """The base model's greedy first attempts on the evaluated problems: every method corrects these."""
        return EvalLayout(self.root / "first-attempts")

    @property
    def validation_first_attempts(self) -> EvalLayout:
        """The same on the validation problems, for the probe during training."""
        return EvalLayout(self.root / "validation-first-attempts")

    def method(self, seed: int, name: str) -> MethodLayout:
        return MethodLayout(self.root / f"seed-{seed}" / name)

    def method_results(self) -> list[Path]:
        """The ``result.json`` of every method finished so far, in order of seed directory and name."""
        return sorted(self.root.glob(f"seed-*/*/{MethodLayout(Path()).result}"))

    def method_profiles(self) -> list[Path]:
        return sorted(self.root.glob(f"seed-*/*/{MethodLayout(Path()).profile}"))

    @property
    def correction_plot(self) -> Path:
        return self.root / "correction.png"

    @property
    def accuracy_plot(self) -> Path:
        return self.root / "accuracy.png"

    @property
    def edit_distance_plot(self) -> Path:
        return self.root / "edit_distance.png"

    @property
    def training_curves_plot(self) -> Path:
        return self.root / "training_curves.png"

    @property
    def scaling_plot(self) -> Path:
        return self.root / "inference_scaling.png"

    @property
    def shift_plot(self) -> Path:
        return self.root / "distribution_shift.png"

    def plots(self) -> list[Path]:
        """Every plot in the report (the ones above, and any other PNG), by name."""
        return sorted(self.root.glob("*.png"))

    @property
    def view(self) -> Path:
        return self.root / VIEW


@dataclass(frozen=True)
class SweepLayout:
    """A learning-rate sweep: a method directory per (method, rate), and the rates chosen."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def scores(self) -> Path:
        """Validation Acc@t2 per method and rate, and the rate chosen for each."""
        return self.root / "sweep.json"

    @property
    def lrs(self) -> Path:
        """The ``lrs:`` block to record in the benchmark preset."""
        return self.root / "lrs.yaml"

    def run(self, name: str, rate: float) -> MethodLayout:
        return MethodLayout(self.root / name / f"lr-{rate:g}")


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
