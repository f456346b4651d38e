"""Checkpoints, written atomically: a temporary directory renamed into place, then the index rewritten atomically.

``run_dir/checkpoints/step-000010/`` holds ``model/`` (``save_pretrained`` + tokenizer: loadable by any HF code and
by ``score-env eval model=<run dir>``) and ``state.pt`` (optimizer, RNG states, step, stage, training reward).
``checkpoints/index.json`` (a :class:`CheckpointIndex`) lists them and names the best (highest training reward, as the
paper selects) and the last. The file names are ``score_env.layout.TrainLayout``'s.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from score_env.layout import CheckpointLayout, TrainLayout
from score_env.runs import write_atomic


@dataclass(frozen=True)
class CheckpointEntry:
    """A checkpoint kept on disk: ``checkpoints/<name>/``."""

    name: str  # step-NNNNNN
    step: int
    train_reward: float  # the mean training reward since the previous checkpoint: what "best" ranks by


@dataclass(frozen=True)
class CheckpointIndex:
    """``checkpoints/index.json``: the checkpoints kept, by step, and the names of the best and the last."""

    checkpoints: tuple[CheckpointEntry, ...]
    best: str
    last: str

    @classmethod
    def from_json(cls, text: str) -> CheckpointIndex:
        data = json.loads(text)
        entries = tuple(CheckpointEntry(c["name"], c["step"], c["train_reward"]) for c in data["checkpoints"])
        return cls(entries, data["best"], data["last"])

    def to_json(self) -> str:
        entries = [asdict(c) for c in self.checkpoints]
        return json.dumps({"checkpoints": entries, "best": self.best, "last": self.last}, indent=2)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers' own progress bars off (``save_pretrained`` draws one per save), as they were after."""
    from transformers.utils import logging

    was = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            logging.enable_progress_bar()


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: Any,
    tokenizer: Any,
    optimizer: torch.optim.Optimizer,
    info: dict[str, Any],
    keep: int = 3,
) -> Path:
    """Save ``checkpoints/step-N`` atomically, then keep only the latest ``keep`` and the best. ``info`` holds
    ``stage``, ``train_reward`` (what "best" ranks by) and ``elapsed_s``."""
    layout = TrainLayout(run_dir)
    final = layout.checkpoint(layout.checkpoint_name(step))
    tmp = layout.checkpoint_tmp(step)
    shutil.rmtree(tmp.root, ignore_errors=True)
    tmp.root.mkdir(parents=True)
    with _no_progress_bars():  # a bar per checkpoint would break into the training bar's line
        model.save_pretrained(tmp.model)
        tokenizer.save_pretrained(tmp.model)
    state = {
        "step": step,
        **info,
        "optimizer": optimizer.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
    }
    torch.save(state, tmp.state)
    if final.root.exists():
        shutil.rmtree(final.root)
    os.replace(tmp.root, final.root)
    _update_index(layout, final.root.name, step, info["train_reward"], keep)
    return final.root


def load_state(checkpoint: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer and RNG states; return the saved state (step, stage, ...)."""
    state = torch.load(CheckpointLayout(checkpoint).state, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"]["torch"])
    random.setstate(state["rng"]["python"])
    np.random.set_state(state["rng"]["numpy"])
    return state


def load_weights(model: Any, path: Path) -> None:
    """Put a checkpoint's weights (all of them, or a LoRA adapter's) into ``model`` in place."""
    if hasattr(model, "peft_config"):
        from peft import load_peft_weights, set_peft_model_state_dict

        set_peft_model_state_dict(model, load_peft_weights(str(path)))
        return
    trained = type(model).from_pretrained(path, dtype=next(model.parameters()).dtype)
    model.load_state_dict(trained.state_dict())


def read_index(run_dir: Path) -> CheckpointIndex | None:
    """The checkpoint index of the training run in ``run_dir``; None before its first checkpoint."""
    path = TrainLayout(run_dir).checkpoint_index
    return CheckpointIndex.from_json(path.read_text()) if path.exists() else None


def checkpoint_path(run_dir: Path, which: Literal["best", "last"]) -> Path:
    """The checkpoint directory a trained run offers for evaluation."""
    index = read_index(run_dir)
    if not index or not index.checkpoints:
        raise FileNotFoundError(f"{run_dir} has no checkpoints")
    return TrainLayout(run_dir).checkpoint(index.best if which == "best" else index.last).root


def is_training_run(path: Path) -> bool:
    return TrainLayout(path).checkpoint_index.exists()


def _update_index(layout: TrainLayout, name: str, step: int, train_reward: float, keep: int) -> None:
    """Record the new checkpoint, then drop the ones that are neither among the latest ``keep`` nor the best (from
    the index first, atomically, then from the disk)."""
    index = read_index(layout.root)
    entries = [c for c in (index.checkpoints if index else ()) if c.name != name]
    entries.append(CheckpointEntry(name, step, train_reward))
    entries.sort(key=lambda c: c.step)
    best = max(entries, key=lambda c: (c.train_reward, c.step))
    kept = [c for c in entries if c in entries[-keep:] or c is best]
    write_atomic(layout.checkpoint_index, CheckpointIndex(tuple(kept), best.name, kept[-1].name).to_json())
    for dropped in (c for c in entries if c not in kept):
        shutil.rmtree(layout.checkpoint(dropped.name).root, ignore_errors=True)
