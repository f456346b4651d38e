"""Where a report came from: what ran, on what, with which code, when."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from score_env.config import BenchmarkConfig


def provenance(config: BenchmarkConfig) -> list[str]:
    """A few lines for the head of ``results.md`` (the first one also titles the plots)."""
    from score_env import __version__

    env = config.env if not config.eval_env else f"{config.env} → {config.eval_env}"
    lrs = ", ".join(f"{k} {v:g}" for k, v in config.lrs.items()) or "each agent's default"
    return [
        f"{env}, model {config.model}, {config.eval_problems or 'all'} {config.eval_split} problems, "
        f"seeds {', '.join(map(str, config.seeds))}",
        "",
        f"- Budget per trained method: {config.updates} updates x {config.problems_per_update} problems x "
        f"{config.samples} samples = {config.budget.episodes} training episodes; learning rates: {lrs}.",
        f"- Training sampled at temperature {config.train_sampling.temperature:g}, evaluation greedy (at most "
        f"{config.eval_max_new_tokens} new tokens per attempt); validation: the last {config.validation_problems} "
        f"{config.train_split} problems, never trained on.",
        f"- score-env {__version__}, commit {_commit()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]


def _commit() -> str:
    """The git commit of the code, when it runs from a checkout ('unknown' from an installed wheel)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"
