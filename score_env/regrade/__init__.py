"""``score-env regrade <run dir>``: re-grade a run's saved episodes with the current grader (issue 26, item 7).

After a grader fix, or to compare graders: every saved attempt of every evaluation in the run (``sources``) is
graded again by the env the run used (its ``config.yaml``: env, split, env_kwargs, imports), through the env itself
(``SelfCorrectionEnv.step``, so a grader that raises is an ``error`` grade exactly as in a run, and a grader that
returns no Grade stops with a ``TaskError``). Self-verdicts are graded again against the new grade of the attempt
they judge (``env.verdict_grade``). Beside each evaluation's files it writes, and never overwrites what the run wrote:

- ``metrics.regraded.json``: the metrics of the re-graded episodes, by ``self_correction_metrics`` with the seed and
  resamples the run used (``metrics.json``'s format, keys and meaning; ``error`` grades count as a run counts them);
- ``regrade_changes.jsonl``: one line per attempt (or self-verdict) whose reward, reason or extracted answer changed;
- ``correction.regraded.json``: where attempt 1 was a fixed one (a benchmark's ``fixed/``, ``eval first_attempts=``),
  the fix and break rates, by ``correction_rates``.

What it cannot do: replay what the model was told. With oracle feedback the model saw the old grade (and with
``stop=on_correct`` the episode ended on it); re-grading such a run changes the grades, not the episodes, and the
summary says so. Everything is graded before anything is written: a mistake, or a grader that fails on more than
``rollout.MAX_ERROR_SHARE`` of the attempts, leaves the run directory as it was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pydantic import TypeAdapter

from score_env.config import ConfigError
from score_env.correction import CorrectionRates, correction_rates
from score_env.env import ORACLE_RIGHT, ORACLE_WRONG, read_verdict, verdict_grade
from score_env.metrics import SelfCorrectionReport, self_correction_metrics
from score_env.preflight import check_env_choice, env_factory, import_tasks
from score_env.records import Attempt, Episode, Grade
from score_env.registry import EnvFactory, UnknownNameError, resolve_env
from score_env.regrade.sources import Evaluation, RunEvaluations, run_evaluations
from score_env.rollout import check_grading
from score_env.runs import progress_bar, run_lock, write_atomic
from score_env.text import dump_json

RATES: TypeAdapter[CorrectionRates] = TypeAdapter(CorrectionRates)


@dataclass(frozen=True)
class Change:
    """One turn whose grade changed: where it is, and its old and new grade."""

    line: int  # of episodes.jsonl, from 1
    episode: Episode  # as saved
    turn: str  # "attempt" or "verdict"
    attempt: int  # from 1: the attempt made (or judged, for a verdict)
    old: Attempt
    new: Attempt

    def to_json(self) -> dict:
        return {
            "problem_id": self.episode.problem_id, "problem_index": self.episode.problem_index,
            "sample": self.episode.sample, "line": self.line, "turn": self.turn, "attempt": self.attempt,
            "old": {"reward": self.old.reward, **self.old.grade.as_info()},
            "new": {"reward": self.new.reward, **self.new.grade.as_info()},
        }  # fmt: skip

    @property
    def transition(self) -> str:
        return f"{self.old.grade.reason.value} → {self.new.grade.reason.value}"


@dataclass(frozen=True)
class Regraded:
    """One evaluation, re-graded: what changed and its metrics before (the saved grades) and after."""

    evaluation: Evaluation
    old: tuple[Episode, ...]  # as saved, in the run's order (problem, sample)
    new: tuple[Episode, ...]  # [E] the same, re-graded
    changes: tuple[Change, ...]
    before: SelfCorrectionReport  # the saved grades, measured as the run measured them
    after: SelfCorrectionReport
    reproduced: bool | None  # `before` is the saved metrics.json exactly (None: the run wrote none)
    rates: tuple[CorrectionRates, CorrectionRates] | None = None  # before and after, where attempt 1 was fixed

    @property
    def attempts(self) -> int:
        return sum(len(e.attempts) for e in self.old)

    @property
    def verdicts(self) -> int:
        return sum(len(e.verdicts) for e in self.old)

    @property
    def oracle(self) -> bool:
        """The model was told its grades (oracle feedback): a changed grade changes what it would have been told."""
        said = (a.prompt[-1].content for e in self.old for a in e.attempts[1:] if a.prompt)
        return any(text.startswith((ORACLE_RIGHT, ORACLE_WRONG)) for text in said)


def regrade_run(path: Path, imports: Sequence[str] = ()) -> tuple[RunEvaluations, tuple[Regraded, ...]]:
    """Re-grade every saved evaluation of the run in ``path`` and write the new files beside the old ones."""
    run = run_evaluations(path)
    import_tasks([*run.imports, *imports])
    with run_lock(run.root), ExitStack() as opened:
        envs: dict[tuple[str, str], EnvFactory] = {}
        saved: dict[Evaluation, list[tuple[int, Episode]]] = {}
        for evaluation in run.evaluations:  # every file read and checked before any grading (slow for code tasks)
            key = (evaluation.env, evaluation.split)
            if key not in envs:  # each task once (closed when all is graded): MATH loads, code starts sandboxes
                envs[key] = opened.enter_context(_open(run, *key))
            rows = sorted(read_saved(evaluation.layout.episodes), key=lambda r: (r[1].problem_index, r[1].sample))
            _check_problems(evaluation, rows, envs[key])
            if rows:  # an evaluation interrupted before its first batch was saved has nothing to re-grade
                saved[evaluation] = rows  # in the run's order (evaluate_policy's)
        if not saved:
            raise ConfigError(f"{str(path)!r} holds no saved episodes: every episodes file in it is empty")
        done = {
            e.layout.root: regrade(e, rows, envs[(e.env, e.split)], run.grading_threads) for e, rows in saved.items()
        }
        regraded = tuple(_with_rates(r, done) for r in done.values())
        for r in regraded:
            check_grading(r.new)  # before anything is written: a grader failing on too many leaves the run as it was
        for r in regraded:
            write_regraded(r)
    return run, regraded


def regrade(evaluation: Evaluation, saved: list[tuple[int, Episode]], envs: EnvFactory, threads: int) -> Regraded:
    """Grade again every turn of ``evaluation``'s ``saved`` episodes (:func:`read_saved`) on the open ``envs``, and
    measure the old grades and the new as the run measured them."""
    total = sum(len(e.attempts) for _, e in saved)
    with progress_bar(total=total, desc=f"regrade {evaluation.name}", unit="attempt", leave=False) as bar:

        def grade(episode: Episode) -> Episode:
            new = replay(envs, episode)
            bar.update(len(episode.attempts))
            return new

        with ThreadPoolExecutor(max_workers=threads) as pool:  # graders that run code wait on I/O, not the GIL
            new = list(pool.map(grade, [e for _, e in saved]))
    old = [e for _, e in saved]
    changes = [c for (line, e), n in zip(saved, new, strict=True) for c in _changes(line, e, n)]
    stored = _stored_metrics(evaluation)
    attempts = stored["attempts"] if stored else 1  # Acc@t up to what the run allowed (per_episode_correct)
    measure = dict(attempts=attempts, n_bootstrap=evaluation.bootstrap, seed=evaluation.seed)
    before = self_correction_metrics(old, **measure)
    reproduced = None if stored is None else json.loads(json.dumps(asdict(before))) == stored
    return Regraded(evaluation, tuple(old), tuple(new), tuple(changes), before,
                    self_correction_metrics(new, **measure), reproduced)  # fmt: skip


def replay(envs: EnvFactory, episode: Episode) -> Episode:
    """``episode`` with each attempt graded again by a fresh env on the task, each verdict against its attempt."""
    env = envs(max_attempts=len(episode.attempts))  # stop="fixed": every saved attempt is stepped, whatever its grade
    try:
        env.reset(options={"index": episode.problem_index})
        attempts = []
        for attempt in episode.attempts:
            _, reward, _, _, info = env.step(attempt.text)
            attempts.append(replace(attempt, reward=float(reward), grade=Grade.from_info(info)))
    finally:
        env.close()
    verdicts = []
    for i, verdict in enumerate(episode.verdicts):  # verdicts[i] judges attempts[i]
        grade = verdict_grade(read_verdict(verdict.text), attempts[i].grade)
        verdicts.append(replace(verdict, reward=grade.reward, grade=grade))
    return replace(episode, attempts=tuple(attempts), verdicts=tuple(verdicts))


def read_saved(path: Path) -> list[tuple[int, Episode]]:
    """(line, episode) of a saved ``episodes.jsonl``. A torn last line (the run died mid-write) is dropped, as every
    reader of run files drops it (``runs.read_jsonl``); any other bad line is a ConfigError naming file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append((number, Episode.from_json(json.loads(line))))
        except json.JSONDecodeError as error:
            if number == len(lines):
                break
            raise ConfigError(
                f"{path}:{number}: not JSON ({error.msg}, column {error.colno}): the file is corrupt"
            ) from None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            what = f"no {error}" if isinstance(error, KeyError) else f"{type(error).__name__}: {error}"
            raise ConfigError(f"{path}:{number}: not a saved episode ({what})") from None
    return rows


def write_regraded(regraded: Regraded) -> None:
    """``metrics.regraded.json``, ``regrade_changes.jsonl`` and, where attempt 1 was fixed,
    ``correction.regraded.json`` (:func:`written_paths`)."""
    layout = regraded.evaluation.layout
    write_atomic(layout.metrics_regraded, json.dumps(asdict(regraded.after), indent=2) + "\n")  # as runs.write_metrics
    write_atomic(layout.regrade_changes, "".join(dump_json(c.to_json()) + "\n" for c in regraded.changes))
    if regraded.rates is not None:
        write_atomic(layout.correction_regraded, RATES.dump_json(regraded.rates[1], indent=2).decode() + "\n")


def written_paths(regraded: Regraded) -> list[Path]:
    layout = regraded.evaluation.layout
    fixed = [layout.correction_regraded] if regraded.rates is not None else []
    return [layout.metrics_regraded, layout.regrade_changes, *fixed]


def _open(run: RunEvaluations, env: str, split: str) -> EnvFactory:
    """The run's task, open (its owner closes it): an env that is not registered here names ``import=``."""
    try:
        resolve_env(env)
    except UnknownNameError as error:
        raise ConfigError(
            f"the run's env={env!r} is not registered here ({error}); if it is a task of your own, name the module "
            f"that registers it: score-env regrade {run.root} import=<module>"
        ) from None
    env_id, _ = check_env_choice(env, split)
    return env_factory(env_id, split, "intrinsic", run.env_kwargs).open()


def _check_problems(evaluation: Evaluation, saved: list[tuple[int, Episode]], envs: EnvFactory) -> None:
    """Each saved episode's problem is the env's problem at its index today, asked the same way (else its grader
    would judge the answer to another question)."""
    assert envs.task is not None  # open
    task = envs.task
    for line, e in saved:
        problem = task.problems[e.problem_index] if 0 <= e.problem_index < len(task.problems) else None
        asked = e.attempts[0].prompt[-1].content if e.attempts[0].prompt else ""
        if problem is None or problem.id != e.problem_id:
            found = "no problem" if problem is None else repr(problem.id)
        elif (asks := task.first_prompt(problem)[-1].content) != asked:
            found = f"{problem.id!r} asking {asks[:80]!r}, not {asked[:80]!r},"
        else:
            continue
        raise ConfigError(
            f"{evaluation.layout.episodes}:{line}: problem {e.problem_index} was {e.problem_id!r} in the run; "
            f"{evaluation.env} ({evaluation.split}) has {found} there now: the env's problems changed since the run "
            "(a new version of its task?), and its grader would judge answers to other questions"
        )


def _changes(line: int, old: Episode, new: Episode) -> list[Change]:
    def differs(a: Attempt, b: Attempt) -> bool:
        return (a.reward, a.grade.reason, a.grade.extracted) != (b.reward, b.grade.reason, b.grade.extracted)

    turns = [("attempt", i, a, b) for i, (a, b) in enumerate(zip(old.attempts, new.attempts, strict=True))]
    turns += [("verdict", i, a, b) for i, (a, b) in enumerate(zip(old.verdicts, new.verdicts, strict=True))]
    return [Change(line, old, turn, i + 1, a, b) for turn, i, a, b in turns if differs(a, b)]


def _stored_metrics(evaluation: Evaluation) -> dict | None:
    path = evaluation.layout.metrics
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("attempts"), int):
        raise ConfigError(f"{path} is not a run's metrics (a SelfCorrectionReport with 'attempts')")
    return stored


def _with_rates(r: Regraded, done: dict[Path, Regraded]) -> Regraded:
    """Where attempt 1 was fixed, the fix and break rates against the model's own (re-graded) episodes."""
    own = r.evaluation.own
    if own is None or own.root not in done:
        return r
    e, mine = r.evaluation, done[own.root]
    rates = (
        correction_rates(r.old, mine.old, e.bootstrap, e.seed),
        correction_rates(r.new, mine.new, e.bootstrap, e.seed),
    )
    return replace(r, rates=rates)
