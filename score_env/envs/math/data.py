"""MATH problems: the vendored splits (offline), a user's JSONL file, or (optional) a Hugging Face dataset."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from score_env.envs.math.answers import last_boxed
from score_env.records import Problem

SPLIT_FILES = {"train": "train_12k.jsonl.gz", "test": "math500_test.jsonl.gz"}
SUBJECTS = (
    "Algebra",
    "Counting & Probability",
    "Geometry",
    "Intermediate Algebra",
    "Number Theory",
    "Prealgebra",
    "Precalculus",
)


def load_problems(
    split: str = "train",
    *,
    path: str | None = None,
    dataset: str | None = None,
    subjects: Sequence[str] | None = None,
    levels: Sequence[int] | None = None,
) -> tuple[Problem, ...]:
    """Problems of ``split`` (train = the 12k split, test = MATH-500), or of ``path`` / ``dataset`` if given.

    Args:
        split: ``train`` or ``test`` for the vendored data; the split name passed to ``datasets`` otherwise.
        path: a JSONL file with ``problem`` and ``answer`` (or a ``solution`` with a ``\\boxed{}``) per line.
        dataset: a Hugging Face dataset name (needs the ``datasets`` package and the hub).
        subjects: keep only these subjects (see ``SUBJECTS``).
        levels: keep only these difficulty levels (1-5).
    """
    if path and dataset:
        raise ValueError("give either path= or dataset=, not both")
    if path:
        problems = _from_jsonl(path)
    elif dataset:
        problems = _from_hub(dataset, split)
    else:
        if split not in SPLIT_FILES:
            raise ValueError(f"split must be one of {sorted(SPLIT_FILES)}, got {split!r}")
        problems = _vendored(split)
    return filter_problems(problems, subjects, levels)


def filter_problems(
    problems: Sequence[Problem], subjects: Sequence[str] | None, levels: Sequence[int] | None
) -> tuple[Problem, ...]:
    if subjects is not None and (unknown := set(subjects) - set(SUBJECTS)):
        raise ValueError(f"unknown MATH subjects {sorted(unknown)}. Allowed: {', '.join(SUBJECTS)}")
    if levels is not None and (unknown := set(levels) - {1, 2, 3, 4, 5}):
        raise ValueError(f"MATH levels are 1-5, got {sorted(unknown)}")
    kept = tuple(
        p
        for p in problems
        if (subjects is None or p.metadata["subject"] in subjects) and (levels is None or p.metadata["level"] in levels)
    )
    if not kept:
        raise ValueError(f"no MATH problem matches subjects={subjects} levels={levels}")
    return kept


def to_problem(row: Mapping[str, Any], index: int, source: str, strict: bool = True) -> Problem:
    """One dataset row (either the MATH or the MATH-500 key layout) as a :class:`Problem`.

    ``strict=False`` admits an empty answer: two rows of the original MATH train split have an empty ``\\boxed{}``.
    They are kept so the split has its 12,000 problems, and every attempt at them is graded ``error``.
    """
    answer = row.get("answer") or last_boxed(row.get("solution", "")) or ""
    if (strict and not answer) or "problem" not in row:
        raise ValueError(f"{source}, row {index}: need 'problem' and 'answer' (or a solution with \\boxed{{}})")
    level = row.get("level", 0)
    if isinstance(level, str):  # "Level 3" in MATH; "Level ?" on two rows -> 0 (unknown)
        digits = level.removeprefix("Level ").strip()
        level = int(digits) if digits.isdigit() else 0
    return Problem(
        id=str(row.get("unique_id", f"{source}/{index}")),
        question=row["problem"],
        reference=answer,
        metadata={"subject": row.get("subject") or row.get("type", ""), "level": int(level)},
    )


@lru_cache(maxsize=4)
def _vendored(split: str) -> tuple[Problem, ...]:
    return _rows(vendored_lines(split), f"MATH/{split}", strict=False)


def vendored_lines(split: str) -> list[str]:
    """The raw JSON lines of a vendored split (they also hold the reference ``solution``)."""
    data = resources.files("score_env.envs.math") / "data" / SPLIT_FILES[split]
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        return f.readlines()


def _from_jsonl(path: str) -> tuple[Problem, ...]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"MATH path {path!r} is not a file")
    with file.open(encoding="utf-8") as f:
        return _rows(f, str(file))


def _rows(lines: Iterable[str], source: str, strict: bool = True) -> tuple[Problem, ...]:
    return tuple(to_problem(json.loads(line), i, source, strict) for i, line in enumerate(lines) if line.strip())


def _from_hub(name: str, split: str) -> tuple[Problem, ...]:
    try:
        import datasets
    except ImportError as exc:
        raise ValueError("dataset= needs the 'datasets' package: pip install 'score-env[hub]'") from exc
    rows = datasets.load_dataset(name, split=split)
    return tuple(to_problem(row, i, f"{name}/{split}") for i, row in enumerate(rows))
