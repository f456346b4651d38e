"""A training run's page: its curves (``metrics.jsonl``) and what it played early, midway and late
(``samples.jsonl``, two episodes per update: ``TrainingSession.record_samples``), or for SFT methods, which play no
episodes per update, a sample of the examples they trained on (``data/*.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from score_env.layout import TrainLayout
from score_env.metrics import edit_distance_ratio
from score_env.records import Episode
from score_env.runs import read_jsonl
from score_env.text import escape_text
from score_env.view.curves import training_curves
from score_env.view.diff import changed_ranges
from score_env.view.model import EpisodeRun, Figure, ProblemTexts, ViewAttempt, ViewEpisode, ViewPage, view_episode

PER_PHASE = 40  # episodes shown per phase of training (early, middle, late): the page stays small
EXAMPLES = 60  # SFT examples shown per data file


def read_training_run(run_dir: Path, config: dict[str, Any]) -> ViewPage:
    layout = TrainLayout(run_dir)
    metrics = read_jsonl(layout.metrics_log)
    problems = ProblemTexts()
    runs = _phases(read_jsonl(layout.samples_log), problems)
    notes = []
    if not runs:
        runs = _examples(run_dir, problems)
        notes.append(
            "This method plays no episodes per update (supervised fine-tuning): shown are examples it trained on "
            "(data/*.json), attempt 1 as the prompt showed it and attempt 2 the target."
            if runs
            else "No samples.jsonl (a run from before score-env view) and no training data: no episodes to show."
        )
    agent = config.get("agent", {}).get("kind", "?")
    figure = training_curves(metrics)
    return ViewPage(
        title=f"train {run_dir.name}",
        kind="train",
        facts=(
            f"agent {agent} on {config.get('env', '?')} ({config.get('split', '?')}), model {config.get('model', '?')}",
            f"{len(metrics)} updates logged" + (f", last at step {metrics[-1]['step']}" if metrics else ""),
        ),
        figures=(Figure("Training curves (metrics.jsonl)", svg=figure),) if figure else (),
        runs=tuple(runs),
        problems=tuple(problems.texts),
        notes=tuple(notes),
    )


def _phases(samples: list[dict[str, Any]], problems: ProblemTexts) -> list[EpisodeRun]:
    """The samples in three runs by step (the first, middle and last third of the steps), each thinned evenly to
    ``PER_PHASE`` episodes."""
    if not samples:
        return []
    steps = sorted({s["step"] for s in samples})
    thirds = [steps[i * len(steps) // 3 : (i + 1) * len(steps) // 3] for i in range(3)]
    runs = []
    for name, phase in zip(("early", "middle", "late"), thirds, strict=True):
        if not phase:
            continue
        chosen = _evenly([s for s in samples if phase[0] <= s["step"] <= phase[-1]], PER_PHASE)
        episodes = tuple(_sample_episode(s, problems) for s in chosen)
        runs.append(EpisodeRun(f"{name}: steps {phase[0]}–{phase[-1]}", f"phase {name}", episodes))
    return runs


def _sample_episode(sample: dict[str, Any], problems: ProblemTexts) -> ViewEpisode:
    """A line of samples.jsonl: later attempts' prompts are left out, so the question comes from the first's."""
    data = sample["episode"]
    question = data["attempts"][0]["prompt"][-1]["content"] if data["attempts"][0]["prompt"] else ""
    episode = Episode.from_json(data)
    return view_episode(episode, problems, caption=f"step {sample['step']}, {sample['stage']}", question=question)


def _examples(run_dir: Path, problems: ProblemTexts) -> list[EpisodeRun]:
    """SFT data (``data/<name>.json``: rows of a prompt [question, attempt 1, instruction] and target token ids)."""
    decode = _decoder(run_dir)
    runs = []
    for path in TrainLayout(run_dir).data_files():
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        chosen = _evenly(list(enumerate(rows)), EXAMPLES)
        episodes = tuple(_example(path.stem, i, row, decode, problems) for i, row in chosen)
        note = f"{len(episodes)} of {len(rows)} examples" + ("" if decode else " (no tokenizer found to decode them)")
        runs.append(EpisodeRun(f"data: {path.stem}", path.stem, episodes, note=note))
    return runs


def _example(name: str, number: int, row: dict[str, Any], decode: Any, problems: ProblemTexts) -> ViewEpisode:
    """Attempt 1 as the prompt shows it, attempt 2 the target; neither graded here (the data keeps no grades)."""
    prompt = row["prompt"]
    last = max((i for i, m in enumerate(prompt) if m["role"] == "assistant"), default=len(prompt))
    shown = prompt[last]["content"] if last < len(prompt) else ""
    question = next((m["content"] for m in reversed(prompt[:last]) if m["role"] == "user"), "")
    target = decode(row["target"]) if decode else f"({len(row['target'])} target tokens)"
    texts = escape_text(shown), escape_text(target)  # shown as view_episode shows attempts, marked as shown
    removed, added = changed_ranges(*texts)
    return ViewEpisode(
        key=f"{name}/{number}#0",
        problem=problems.index(question),
        problem_index=number,
        sample=0,
        transition="example",
        edit_ratio=round(edit_distance_ratio(shown, target), 4),
        attempts=(ViewAttempt(texts[0], None, marks=tuple(removed)), ViewAttempt(texts[1], None, marks=tuple(added))),
    )


def _decoder(run_dir: Path) -> Any:
    """Token ids to text with the run's own tokenizer (any checkpoint's ``tokenizer.json``), or None."""
    found = TrainLayout(run_dir).tokenizers()
    if not found:
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(found[-1]))
    return lambda ids: tokenizer.decode(ids, skip_special_tokens=True)


def _evenly(items: list[Any], n: int) -> list[Any]:
    """At most ``n`` items, evenly spaced (the first and the last included)."""
    if len(items) <= n:
        return items
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]
