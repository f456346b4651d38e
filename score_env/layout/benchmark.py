"""A benchmark report's and a sweep's directories: the report, each method of each seed, its analyses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from score_env.layout.runs import CONFIG, PROFILE, VIEW, EvalLayout, TrainLayout


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
