"""What a training run holds: the model, its optimizer and reference, the run directory, the step counter.

It updates the weights, logs a step, and checkpoints; it does not generate, score or compute advantages (agents and
``score_loss`` do). Works unchanged in one process or under ``accelerate launch`` (data parallel: each process plays
its share of the problems; gradients are averaged by Accelerate's DDP).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from score_env.layout import CheckpointLayout, TrainLayout
from score_env.learner.reference import Reference, make_reference
from score_env.policies import ModelPolicy, SeparateEngine
from score_env.profile import phase
from score_env.records import Episode
from score_env.runs import progress_bar, read_jsonl, write_atomic
from score_env.text import dump_json
from score_env.training.checkpoint import load_state, load_weights, save_checkpoint
from score_env.training.streams import Stream
from score_env.training.trackers import Tracker

SAMPLES_PER_STEP = 2  # episodes of each update kept in samples.jsonl, for `score-env view`
Probe = Callable[["TrainingSession"], dict[str, Any]]


class Diverged(RuntimeError):
    """An update's loss or gradient was not finite: training stops before that update changes any weight, and the
    run keeps its last checkpoint (every one before it is of finite weights)."""

    def __init__(self, run_dir: Path, step: int, loss: float, grad_norm: float):
        where = f"the last good checkpoint is kept in {run_dir}" if run_dir else "no checkpoint"
        super().__init__(
            f"training diverged at update {step}: loss {loss}, gradient norm {grad_norm} (not finite); stopped "
            f"before that update, {where} (a smaller agent.lr, or max_grad_norm, may help)"
        )
        self.run_dir, self.step = run_dir, step


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the update under way finished and was checkpointed; ``resume`` continues from it."""

    def __init__(self, run_dir: Path, step: int):
        super().__init__(f"interrupted after update {step}")
        self.run_dir, self.step = run_dir, step


@dataclass
class TrainingSession:
    policy: ModelPolicy  # generates with the current weights
    model: Any  # the trainable module (DDP-wrapped under accelerate)
    optimizer: torch.optim.Optimizer
    reference: Reference
    accelerator: Any
    run_dir: Path
    seed: int
    checkpoint_every: int
    label: str  # shown on the progress bar (the benchmark names the method)
    keep_checkpoints: int = 3  # the latest N are kept (and the best)
    max_grad_norm: float | None = 1.0  # gradient clipping (None: none)
    step: int = 0  # updates done so far
    stop_requested: bool = False  # set by Ctrl-C: stop after the update under way, checkpointed
    trackers: Sequence[Tracker] = ()  # TensorBoard, W&B: each update's metrics, besides metrics.jsonl
    bar: Any = None
    elapsed_before: float = 0.0  # seconds spent before the checkpoint this run resumed from
    probe: Probe | None = None  # measures the current policy (the learning check's correction probe)
    _rewards_since_checkpoint: list[float] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls,
        policy: ModelPolicy,
        *,
        lr: float,
        run_dir: Path,
        seed: int,
        checkpoint_every: int,
        label: str = "train",
        keep_checkpoints: int = 3,
        max_grad_norm: float | None = 1.0,
        trackers: Sequence[Tracker] = (),
        resume_from: Path | None = None,
    ) -> TrainingSession:
        """Set up the optimizer and the reference (the base model, before any update); with ``resume_from`` (a
        checkpoint directory), continue from it: its weights, optimizer and RNG states, step and elapsed time, and
        a ``metrics.jsonl`` cut back to the steps it had (the steps after it are done again)."""
        from accelerate import Accelerator

        accelerator = Accelerator(cpu=policy.device.type == "cpu")
        reference = make_reference(policy.model)  # before any update or checkpoint load: the base model
        if resume_from is not None:
            load_weights(policy.model, CheckpointLayout(resume_from).model)
        optimizer = torch.optim.Adam([p for p in policy.model.parameters() if p.requires_grad], lr=lr)
        model, optimizer = accelerator.prepare(policy.model, optimizer)
        session = cls(
            policy,
            model,
            optimizer,
            reference,
            accelerator,
            run_dir,
            seed,
            checkpoint_every,
            label,
            keep_checkpoints,
            max_grad_norm,
        )
        if resume_from is not None:
            state = load_state(resume_from, optimizer)
            session.step, session.elapsed_before = state["step"], state.get("elapsed_s", 0.0)
        session._cut_metrics_after(session.step)  # steps logged after the checkpoint (or before any) are redone
        session.trackers = trackers if accelerator.is_main_process else ()
        return session

    @property
    def elapsed_s(self) -> float:
        """Training time so far, across resumptions."""
        return self.elapsed_before + time.monotonic() - self._started

    @property
    def tokenizer(self) -> Any:
        return self.policy.tokenizer

    def step_seed(self, step: int, stream: int = Stream.SAMPLING) -> int:
        """A seed that depends only on the run seed, the step and the stream (:class:`~score_env.training.streams.
        Stream`): a resumed run draws the same numbers."""
        return int(np.random.SeedSequence([self.seed, step, stream]).generate_state(1)[0])

    def steps(self, count: int, first: int = 0) -> range:
        """The global steps ``first .. first + count - 1`` still to run: a resumed run skips those it did before.
        Every agent loops over these, so none skips steps itself."""
        return range(min(max(first, self.step), first + count), first + count)

    def problem_batch(self, step: int, n_problems: int, problems: int) -> list[int]:
        """This process's share of the ``problems`` drawn (without replacement) for ``step``."""
        rng = np.random.default_rng(self.step_seed(step, Stream.PROBLEMS))
        chosen = rng.choice(n_problems, size=min(problems, n_problems), replace=False).tolist()
        return chosen[self.accelerator.process_index :: self.accelerator.num_processes]

    def show_progress(self, total: int) -> None:
        """A progress bar over the ``total`` updates the agent will make (main process only)."""
        if self.accelerator.is_main_process:
            self.bar = progress_bar(total=total, initial=self.step, desc=self.label, unit="update")

    def update(self, loss: torch.Tensor) -> float:
        """One optimizer step on ``loss``; the gradient is clipped to ``max_grad_norm`` first. Returns its norm."""
        with phase("learner"):
            return self._update(loss)

    def _update(self, loss: torch.Tensor) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        norm = self.accelerator.clip_grad_norm_(self.model.parameters(), self.max_grad_norm or float("inf"))
        if not math.isfinite(float(norm)) or not math.isfinite(loss.item()):  # the norm is every process's
            self.optimizer.zero_grad(set_to_none=True)
            raise Diverged(self.run_dir, self.step + 1, loss.item(), float(norm))
        self.optimizer.step()
        if isinstance(self.policy, SeparateEngine):  # a separate inference engine (vLLM) gets the new weights now
            self.policy.sync_weights()
        return float(norm)

    def run_probe(self, stage_name: str) -> None:
        """Measure the current policy with ``probe`` (if any) and append it to ``probes.jsonl`` (once per step). It
        draws from no random stream training uses, so a run with a probe trains exactly as one without."""
        if self.probe is None or not self.accelerator.is_main_process:
            return
        path = TrainLayout(self.run_dir).probes_log
        if any(r["step"] == self.step for r in read_jsonl(path)):
            return
        devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices), phase("probe"):  # CUDA's generators too: generation may reseed
            values = self.probe(self)
        with path.open("a") as f:
            f.write(json.dumps({"step": self.step, "stage": stage_name, **values}) + "\n")

    def end_step(
        self, stage: int, stage_name: str, metrics: dict[str, float], reward: float, last_of_stage: bool = False
    ) -> None:
        """Count the update, log it (``metrics.jsonl``, TensorBoard), checkpoint every ``checkpoint_every`` and at a
        stage's last update (where the probe, if any, measures the policy)."""
        self.step += 1
        metrics = self._mean_over_processes(metrics)
        if self.bar is not None:  # what the update did, as it goes: the stage and its loss (else its reward)
            value = f"loss {metrics['loss']:.4g}" if "loss" in metrics else f"reward {reward:.3f}"
            self.bar.update(1)
            self.bar.set_postfix_str(f"{stage_name}, {value}")
        self._rewards_since_checkpoint.append(self._mean_over_processes({"r": reward})["r"])
        if self.accelerator.is_main_process:
            record = {"step": self.step, "stage": stage_name, **metrics, "elapsed_s": self.elapsed_s}
            with TrainLayout(self.run_dir).metrics_log.open("a") as f:
                f.write(json.dumps(record) + "\n")
            for tracker in self.trackers:
                tracker.log(metrics, self.step)
        if last_of_stage:
            self.run_probe(f"end of {stage_name}")
        if self.step % self.checkpoint_every == 0 or self.stop_requested or last_of_stage:
            self.checkpoint(stage)
        if self.stop_requested:
            raise TrainingInterrupted(self.run_dir, self.step)

    def record_samples(self, step: int, stage_name: str, episodes: Sequence[Episode]) -> None:
        """Append the first ``SAMPLES_PER_STEP`` of an update's episodes to ``samples.jsonl`` (main process only), so
        ``score-env view`` can show what training played early, midway and late. Bounded: no token ids, log-probs or
        prompts after the first attempt's (the conversation repeats it), two episodes per update."""
        if not self.accelerator.is_main_process:
            return
        lines = []
        for episode in episodes[:SAMPLES_PER_STEP]:
            data = episode.to_json()
            for number, attempt in enumerate(data["attempts"]):
                attempt["token_ids"], attempt["logprobs"] = [], []
                attempt["prompt"] = attempt["prompt"] if number == 0 else []
            lines.append(dump_json({"step": step, "stage": stage_name, "episode": data}) + "\n")
        with TrainLayout(self.run_dir).samples_log.open("a", encoding="utf-8") as f:
            f.writelines(lines)

    def checkpoint(self, stage: int) -> None:
        with phase("checkpoint"):
            self._checkpoint(stage)

    def _checkpoint(self, stage: int) -> None:
        reward = float(np.mean(self._rewards_since_checkpoint)) if self._rewards_since_checkpoint else 0.0
        self._rewards_since_checkpoint.clear()
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            save_checkpoint(
                self.run_dir,
                self.step,
                self.accelerator.unwrap_model(self.model),
                self.tokenizer,
                self.optimizer,
                {"stage": stage, "train_reward": reward, "elapsed_s": self.elapsed_s},
                keep=self.keep_checkpoints,
            )
        self.accelerator.wait_for_everyone()

    def save_data(self, name: str, rows: list[dict[str, Any]], episodes: int) -> None:
        """Keep data an agent collected (SFT pairs) with the number of episodes it sampled for it, so a resumed run
        trains on exactly the same examples and the run's sampling budget can be read back."""
        if self.accelerator.is_main_process:
            TrainLayout(self.run_dir).data_dir.mkdir(exist_ok=True)
            write_atomic(TrainLayout(self.run_dir).data(name), dump_json({"episodes": episodes, "rows": rows}))
        self.accelerator.wait_for_everyone()

    def load_data(self, name: str) -> list[dict[str, Any]] | None:
        path = TrainLayout(self.run_dir).data(name)
        return json.loads(path.read_text(encoding="utf-8"))["rows"] if path.exists() else None

    def _cut_metrics_after(self, step: int) -> None:
        layout = TrainLayout(self.run_dir)
        logs = (layout.metrics_log, layout.samples_log, layout.probes_log)
        for log in logs:  # the steps after the checkpoint are done again, and logged
            if self.accelerator.is_main_process and log.exists():
                kept = [r for r in read_jsonl(log) if r["step"] <= step]
                write_atomic(log, "".join(dump_json(r) + "\n" for r in kept))

    def _mean_over_processes(self, metrics: dict[str, float]) -> dict[str, float]:
        if self.accelerator.num_processes == 1:
            return metrics
        names = sorted(metrics)
        values = torch.tensor([metrics[n] for n in names], dtype=torch.float64, device=self.accelerator.device)
        mean = self.accelerator.reduce(values, reduction="mean")
        return dict(zip(names, mean.tolist(), strict=True))
