"""Checkpoints, written atomically: a temporary directory renamed into place, then the index rewritten atomically.

``run_dir/checkpoints/step-000010/`` holds ``model/`` (``save_pretrained`` + tokenizer: loadable by any HF code and
by ``score-env eval model=<run dir>``) and ``state.pt`` (optimizer, RNG states, step, stage, training reward).
``checkpoints/index.json`` lists them and names the best (highest training reward, as the paper selects) and the last.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from score_env.runs import write_atomic

INDEX = "index.json"


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
    root = run_dir / "checkpoints"
    final = root / f"step-{step:06d}"
    tmp = root / f".step-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp / "model")
    tokenizer.save_pretrained(tmp / "model")
    state = {
        "step": step,
        **info,
        "optimizer": optimizer.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()},
    }
    torch.save(state, tmp / "state.pt")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _update_index(root, final.name, step, info["train_reward"], keep)
    return final


def load_state(checkpoint: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer and RNG states; return the saved state (step, stage, ...)."""
    state = torch.load(checkpoint / "state.pt", weights_only=False)
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


def read_index(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "checkpoints" / INDEX
    return json.loads(path.read_text()) if path.exists() else None


def checkpoint_path(run_dir: Path, which: Literal["best", "last"]) -> Path:
    """The checkpoint directory a trained run offers for evaluation."""
    index = read_index(run_dir)
    if not index or not index["checkpoints"]:
        raise FileNotFoundError(f"{run_dir} has no checkpoints")
    return run_dir / "checkpoints" / index[which]


def is_training_run(path: Path) -> bool:
    return (path / "checkpoints" / INDEX).exists()


def _update_index(root: Path, name: str, step: int, train_reward: float, keep: int) -> None:
    """Record the new checkpoint, then drop the ones that are neither among the latest ``keep`` nor the best (from
    the index first, atomically, then from the disk)."""
    index = read_index(root.parent) or {"checkpoints": []}
    entries = [c for c in index["checkpoints"] if c["name"] != name]
    entries.append({"name": name, "step": step, "train_reward": train_reward})
    entries.sort(key=lambda c: c["step"])
    best = max(entries, key=lambda c: (c["train_reward"], c["step"]))
    kept = [c for c in entries if c in entries[-keep:] or c is best]
    write_atomic(
        root / INDEX, json.dumps({"checkpoints": kept, "best": best["name"], "last": kept[-1]["name"]}, indent=2)
    )
    for dropped in (c for c in entries if c not in kept):
        shutil.rmtree(root / dropped["name"], ignore_errors=True)
