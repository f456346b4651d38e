"""Run directories: the resolved config, episodes appended as they finish, the metrics at the end."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from score_env.config import ConfigError
from score_env.metrics import SelfCorrectionReport
from score_env.records import Episode

CONFIG = "config.yaml"
EPISODES = "episodes.jsonl"
METRICS = "metrics.json"


def default_run_dir(kind: str, *names: str, root: Path = Path("runs")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "-".join(n.replace("/", "_") for n in names)
    return root / f"{kind}-{slug}-{stamp}"


def prepare_run_dir(run_dir: Path, config: dict[str, Any]) -> list[Episode]:
    """Create ``run_dir`` and write ``config.yaml``; return the episodes of an earlier, interrupted run.

    A run directory that already holds a *different* config is refused (its results would be mixed up).
    """
    config_path = run_dir / CONFIG
    if config_path.exists():
        previous = yaml.safe_load(config_path.read_text())
        if previous != config:
            changed = sorted(k for k in config.keys() | previous.keys() if config.get(k) != previous.get(k))
            raise ConfigError(
                f"run_dir {str(run_dir)!r} holds a run with a different config (keys differ: {', '.join(changed)}); "
                "choose another run_dir"
            )
        episodes = read_episodes(run_dir / EPISODES)
        # Rewrite without a torn last line, so that appending continues a well-formed file.
        write_atomic(run_dir / EPISODES, "".join(_line(e) for e in episodes))
        return episodes
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(config_path, yaml.safe_dump(config, sort_keys=False))
    return []


def append_episodes(path: Path, episodes: Iterable[Episode]) -> None:
    """Append episodes as JSON lines and flush them to disk, so an interrupted run keeps them."""
    with path.open("a", encoding="utf-8") as f:
        f.writelines(_line(e) for e in episodes)
        f.flush()
        os.fsync(f.fileno())


def read_episodes(path: Path) -> list[Episode]:
    """Episodes of a JSONL file; a torn last line (the process died mid-write) is dropped."""
    if not path.exists():
        return []
    episodes = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            episodes.append(Episode.from_json(json.loads(line)))
        except json.JSONDecodeError:
            if number != len(lines):
                raise
    return episodes


def _line(episode: Episode) -> str:
    return json.dumps(episode.to_json(), ensure_ascii=False) + "\n"


def write_metrics(run_dir: Path, report: SelfCorrectionReport) -> Path:
    path = run_dir / METRICS
    write_atomic(path, json.dumps(asdict(report), indent=2) + "\n")
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same directory, then rename over ``path``."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)
