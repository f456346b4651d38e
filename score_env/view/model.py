"""What the page shows, as frozen records: a run's episodes cut down to what a reader needs, the results table, the
figures, a validate run's checks. Token ids, log-probs and the prompt repeated in every attempt stay in
``episodes.jsonl``.

An episode's *transition* is what the last attempt did to the first: ``i2c`` wrong→right (the episodes Δi→c counts),
``c2i`` right→wrong (Δc→i), ``i2i_changed`` and ``i2i_same`` wrong→wrong with the text rewritten or copied verbatim,
``c2c`` right→right; an episode of one attempt is ``right`` or ``wrong``; a training example (SFT data, never
graded here) is ``example``.

Every text a model, a grader or a program wrote is shown through :func:`score_env.text.escape_text`: a NUL, a
terminal escape or a lone surrogate appears as ``\\x00``, ``\\x1b``, ``\\ud800`` (the page could not show it, and
could not even be written with a lone surrogate in it); the marks are computed on the texts as shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from score_env.metrics import Estimate, SelfCorrectionReport, edit_distance_ratio
from score_env.records import Attempt, Episode
from score_env.text import escape_text
from score_env.view.diff import changed_ranges

if TYPE_CHECKING:  # imported where a validate run is read (view.validation): score_env.validate loads torch
    from score_env.validation import CheckResult

Transition = Literal["i2c", "c2i", "i2i_changed", "i2i_same", "c2c", "right", "wrong", "example"]
DETAIL_TAIL = 800  # characters of a grade's detail kept (a failing test's traceback ends with what matters)


@dataclass(frozen=True)
class ViewAttempt:
    text: str
    correct: bool | None  # None: not graded (a training example)
    reason: str = ""
    extracted: str | None = None
    detail: str = ""  # the tail of the grade's detail (the sandbox's output for code)
    sandbox: str = ""
    finish: str = "stop"  # "length": cut at max_new_tokens
    from_base: bool = False  # sampled from the base model (SCoRe's optional first-attempt mixing in training)
    marks: tuple[int, ...] = ()  # flat UTF-16 [start, end, ...] ranges that differ from the other attempt


@dataclass(frozen=True)
class ViewEpisode:
    key: str  # problem id and sample: the same problem in another run of the same group
    problem: int  # index into the page's problem texts
    problem_index: int
    sample: int
    transition: Transition
    edit_ratio: float
    attempts: tuple[ViewAttempt, ...]
    caption: str = ""  # e.g. "step 12, stage-2" for a training sample


@dataclass(frozen=True)
class EpisodeRun:
    """One browsable list: a benchmark method and seed, an eval run, a phase of training."""

    label: str
    group: str  # runs of one group played the same problems: the page compares them side by side
    episodes: tuple[ViewEpisode, ...]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    caption: str
    png: bytes = b""  # one of png and svg
    svg: str = ""


@dataclass(frozen=True)
class ResultRow:
    """A row of the results table: the run's metrics, its facts (the metric catalogue's ``FACTS``: episodes, errors,
    lr...) and the rates on the base model's first attempts (catalogue key -> estimate; None: not measured)."""

    label: str
    report: SelfCorrectionReport | None  # None: the method failed
    error: str = ""
    facts: dict[str, float] = field(default_factory=dict)
    fixed: dict[str, Estimate | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ViewPage:
    title: str
    kind: Literal["benchmark", "eval", "train", "validate"]
    facts: tuple[str, ...]  # what ran, one line each
    results: tuple[ResultRow, ...] = ()
    checks: tuple[CheckResult, ...] = ()  # a validate run's checks, as validate.json holds them (escaped when shown)
    figures: tuple[Figure, ...] = ()
    runs: tuple[EpisodeRun, ...] = ()
    problems: tuple[str, ...] = ()  # problem texts, each once (episodes point into it)
    notes: tuple[str, ...] = ()
    instruction: str = ""  # the correction instruction shown before attempt 2


@dataclass
class ProblemTexts:
    """Problem texts stored once for the whole page, however many runs played them."""

    texts: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def index(self, text: str) -> int:
        text = escape_text(text)
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(text)
        return self._index[text]


def transition(correct: list[bool], texts: list[str]) -> Transition:
    """What the last attempt did to the first (see the module's docstring)."""
    if len(correct) == 1:
        return "right" if correct[0] else "wrong"
    match correct[0], correct[-1]:
        case True, True:
            return "c2c"
        case True, False:
            return "c2i"
        case False, True:
            return "i2c"
    return "i2i_changed" if texts[0] != texts[-1] else "i2i_same"


def view_episode(episode: Episode, problems: ProblemTexts, caption: str = "", question: str = "") -> ViewEpisode:
    """The episode as the page shows it. ``question``: the problem's text when the attempts do not carry it."""
    attempts = episode.attempts
    texts = [a.text for a in attempts]
    shown = [escape_text(t) for t in texts]
    marks = _marks(shown)
    viewed = tuple(_view_attempt(a, t, m) for a, t, m in zip(attempts, shown, marks, strict=True))
    return ViewEpisode(
        key=f"{episode.problem_id}#{episode.sample}",
        problem=problems.index(question or problem_text(attempts[0])),
        problem_index=episode.problem_index,
        sample=episode.sample,
        transition=transition([a.grade.correct for a in attempts], texts),
        edit_ratio=round(edit_distance_ratio(texts[0], texts[-1]), 4),
        attempts=viewed,
        caption=caption,
    )


def problem_text(first: Attempt) -> str:
    """The problem as asked: the last message of the first attempt's prompt (few-shot turns come before it)."""
    return first.prompt[-1].content if first.prompt else ""


def correction_instruction(episode: Episode) -> str:
    return episode.attempts[1].prompt[-1].content if len(episode.attempts) > 1 and episode.attempts[1].prompt else ""


def page_json(page: ViewPage) -> dict[str, Any]:
    """What the page's script reads: the runs and the problem texts, without empty fields."""
    return {
        "problems": list(page.problems),
        "runs": [
            {"label": r.label, "group": r.group, "note": r.note, "episodes": [_episode_json(e) for e in r.episodes]}
            for r in page.runs
        ],
    }


def _marks(texts: list[str]) -> list[tuple[int, ...]]:
    """Each attempt's changed ranges against its neighbour: attempt 1 against 2, every later one against the one
    before it (the first attempt has no predecessor, so it is marked against the second)."""
    if len(texts) < 2:
        return [()] * len(texts)
    marks: list[tuple[int, ...]] = [()] * len(texts)
    for t in range(1, len(texts)):
        removed, added = changed_ranges(texts[t - 1], texts[t])
        marks[t] = tuple(added)
        if t == 1:
            marks[0] = tuple(removed)
    return marks


def _view_attempt(attempt: Attempt, shown: str, marks: tuple[int, ...]) -> ViewAttempt:
    grade = attempt.grade
    return ViewAttempt(
        text=shown,
        correct=grade.correct,
        reason=grade.reason.value,
        extracted=None if grade.extracted is None else escape_text(grade.extracted),
        detail=escape_text(grade.detail[-DETAIL_TAIL:]),
        sandbox=grade.sandbox,
        finish=attempt.finish_reason,
        from_base=attempt.from_base,
        marks=marks,
    )


def _episode_json(episode: ViewEpisode) -> dict[str, Any]:
    data = {k: v for k, v in vars(episode).items() if k != "attempts" and v != ""}
    data["attempts"] = [_attempt_json(a) for a in episode.attempts]
    return data


def _attempt_json(attempt: ViewAttempt) -> dict[str, Any]:
    defaults = {
        "reason": "",
        "extracted": None,
        "detail": "",
        "sandbox": "",
        "finish": "stop",
        "from_base": False,
        "marks": (),
    }
    data = {k: v for k, v in vars(attempt).items() if k not in defaults or v != defaults[k]}
    if "marks" in data:
        data["marks"] = list(data["marks"])
    return data
