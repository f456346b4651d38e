"""Run directories: the resolved config, episodes appended as they finish, metrics; the one place runs resume.

A run directory holds ``config.yaml`` (what was asked), ``episodes.jsonl`` (appended after every batch, so an
interrupted run keeps what it did) and ``metrics.json``; a training run adds ``metrics.jsonl`` and checkpoints (the
files of each kind of run directory are named in ``score_env.layout``). A directory that already holds a *different*
config is refused with both values, so results are never mixed. ``read_jsonl`` is the one reader of JSONL logs: it
drops a torn last line (the process died mid-write).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from score_env.config import ConfigError
from score_env.layout import CONFIG, EPISODES, LOCK, EvalLayout
from score_env.metrics import SelfCorrectionReport
from score_env.records import Episode
from score_env.text import dump_json

# The terminal line of this process's progress bars: None (tqdm's own choice) but in a benchmark worker process,
# where each worker draws on its own line (score_env.benchmark.workers sets it).
BAR_LINE: int | None = None


def progress_bar(**kwargs: Any) -> Any:
    """A tqdm progress bar, on this process's line (``BAR_LINE``)."""
    from tqdm.auto import tqdm

    return tqdm(position=BAR_LINE, **kwargs)


def default_run_dir(kind: str, *names: str, root: Path = Path("runs")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "-".join(n.replace("/", "_") for n in names)
    return root / f"{kind}-{slug}-{stamp}"


def check_run_dir(run_dir: Path, config: Mapping[str, Any], may_change: frozenset[str] = frozenset()) -> bool:
    """Whether ``run_dir`` holds an earlier run of this very config (to continue); raises if it holds another.

    Keys in ``may_change`` (how the run runs, not what it computes) may differ. Cheap: reads only ``config.yaml``, so
    a mismatch is reported before any model is loaded.
    """
    path = run_dir / CONFIG
    if not path.exists():
        return False
    previous = yaml.safe_load(path.read_text()) or {}
    differences = [d for d in _differences(previous, config) if d[0] not in may_change]
    if differences:
        changes = "; ".join(f"{key}: {before!r} then, {now!r} now" for key, before, now in differences)
        raise ConfigError(
            f"run_dir {str(run_dir)!r} holds a run with another config ({changes}). Continue it with its own config, "
            "or choose a new run_dir"
        )
    return True


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C in a command whose work is kept in ``path``: the same command with ``key=path`` continues it."""

    def __init__(self, key: str, path: Path):
        super().__init__(f"interrupted; kept in {path}")
        self.key, self.path = key, path


@contextlib.contextmanager
def continued_by(key: str, path: Path) -> Iterator[None]:
    """Turn any Ctrl-C inside (a method's training included) into :class:`RunInterrupted` for this command."""
    try:
        yield
    except RunInterrupted:
        raise
    except KeyboardInterrupt as interruption:
        raise RunInterrupted(key, path) from interruption


_HELD: dict[Path, tuple[int, int]] = {}  # run directory -> (lock fd, how many holders in this process)
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir`` while a run writes to it: a second run into it from another process is refused with one line
    (two runs would write every episode twice). The lock is the kernel's (``flock`` on ``<run_dir>/.lock``), so a
    killed run's lock goes with it and the next run takes over; within one process it is re-entrant. A directory
    made here that the run left empty (a mistake refused before any work) is removed again."""
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        key = run_dir.resolve()
        fd = os.open(key / LOCK, os.O_RDWR | os.O_CREAT, 0o644) if key not in _HELD else -1
    except OSError as error:  # a file where the directory should be, no permission, a full disk
        raise ConfigError(f"cannot write the run directory {run_dir}: {error.strerror or error}") from None
    with _HELD_GUARD:
        if key in _HELD:
            if fd >= 0:
                os.close(fd)
            fd, holders = _HELD[key]
        else:
            holders = 0
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ConfigError(
                    f"{run_dir} is in use by another run (wait for it to end, or choose another directory)"
                ) from None
        _HELD[key] = (fd, holders + 1)
    try:
        yield
    finally:
        with _HELD_GUARD:
            fd, holders = _HELD.pop(key)
            if holders > 1:
                _HELD[key] = (fd, holders - 1)
            else:
                os.close(fd)  # releases the flock
                if created and [p.name for p in key.iterdir()] == [LOCK]:  # a run that wrote nothing leaves nothing
                    (key / LOCK).unlink()
                    key.rmdir()


def open_run_dir(run_dir: Path, config: Mapping[str, Any], may_change: frozenset[str] = frozenset()) -> list[Episode]:
    """Create ``run_dir`` with ``config.yaml``, or continue the run already there; return its episodes so far."""
    if check_run_dir(run_dir, config, may_change):
        episodes = read_episodes(run_dir / EPISODES)
        write_episodes(run_dir / EPISODES, episodes)  # without a torn last line: appending continues a clean file
        return episodes
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / CONFIG, yaml.safe_dump(dict(config), sort_keys=False))
    return []


def append_episodes(path: Path, episodes: Iterable[Episode]) -> None:
    """Append episodes as JSON lines and flush them to disk, so an interrupted run keeps them."""
    with path.open("a", encoding="utf-8") as f:
        f.writelines(_line(e) for e in episodes)
        f.flush()
        os.fsync(f.fileno())


def write_episodes(path: Path, episodes: Iterable[Episode]) -> None:
    """Replace ``path`` with exactly these episodes, atomically."""
    write_atomic(path, "".join(_line(e) for e in episodes))


def read_episodes(path: Path) -> list[Episode]:
    """Episodes of a JSONL file; a torn last line (the process died mid-write) is dropped."""
    return [Episode.from_json(row) for row in read_jsonl(path)]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file ([] if there is none); a torn last line is dropped, a torn earlier one raises."""
    if not path.exists():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number != len(lines):
                raise
    return rows


def write_metrics(run_dir: Path, report: SelfCorrectionReport) -> Path:
    path = EvalLayout(run_dir).metrics
    write_atomic(path, json.dumps(asdict(report), indent=2) + "\n")
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same directory, then rename over ``path`` (mode 0644 under the usual
    umask, like any file a user writes: a temporary file starts at 0600)."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.chmod(tmp.name, 0o666 & ~_UMASK)
    os.replace(tmp.name, path)


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any thread writes files
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _line(episode: Episode) -> str:
    return dump_json(episode.to_json()) + "\n"  # model text may hold lone surrogates: see score_env.text


def _differences(before: Mapping[str, Any], now: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf that differs."""
    out = []
    for key in sorted(before.keys() | now.keys()):
        old, new = before.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += _differences(old, new, f"{prefix}{key}.")
        elif old != new:
            out.append((f"{prefix}{key}", old, new))
    return out
