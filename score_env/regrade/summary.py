"""What ``score-env regrade`` prints: per evaluation, how many attempts were graded again, how many grades changed
(by old → new reason), the headline metrics before → after (and the fix and break rates where attempt 1 was fixed),
and the files written. Labels and digits are the metric catalogue's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from score_env.layout import EPISODES, EvalLayout
from score_env.metric_catalogue import FIXED, HEADLINE, metric
from score_env.metrics import Estimate
from score_env.regrade import Regraded, written_paths
from score_env.regrade.sources import RunEvaluations

LISTED = 4  # at most this many files written are named one by one; more are named by directory


def describe(run: RunEvaluations, regraded: Sequence[Regraded]) -> list[str]:
    """The summary's lines."""
    attempts = sum(r.attempts for r in regraded)
    changed = sum(len(r.changes) for r in regraded)
    lines = [f"re-graded {attempts} attempts{_verdicts(regraded)} of the {run.kind} run {run.root} "
             f"({len(regraded)} evaluation{'s' * (len(regraded) > 1)}): {changed} grades changed"]  # fmt: skip
    for r in regraded:
        by = Counter(c.transition for c in r.changes)
        how = f": {', '.join(f'{t} {n}' for t, n in by.most_common())}" if by else ""
        lines.append(f"{r.evaluation.name}: {r.attempts} attempts{_verdicts([r])}, {len(r.changes)} changed{how}")
        keys = HEADLINE if r.after.attempts > 1 else HEADLINE[:1]
        lines.append("  " + "; ".join(_before_after(k, r.before.estimates, r.after.estimates) for k in keys))
        if r.rates is not None:
            old, new = (rates.by_key() for rates in r.rates)
            lines.append("  " + "; ".join(_before_after(k, old, new) for k in FIXED if old[k] or new[k]))
        lines += [f"  note: {note}" for note in notes(r)]
    return [*lines, *_written(run.root, [p for r in regraded for p in written_paths(r)])]


def notes(r: Regraded) -> list[str]:
    """What the numbers above do not say by themselves."""
    said = []
    if r.reproduced is False:
        said.append(
            "its metrics.json is not what its saved grades give measured the same way (a run of an older score-env?):"
            " compare metrics.regraded.json with the 'before' above, not with metrics.json"
        )
    if r.changes and r.oracle:
        said.append(
            "the model was told its old grades (oracle feedback): with the new ones its episodes would have gone "
            "otherwise; only a new run measures that"
        )
    return said


def _before_after(key: str, before: Mapping[str, Estimate | None], after: Mapping[str, Estimate | None]) -> str:
    m = metric(key)
    old, new = before.get(key), after.get(key)
    return (
        f"{m.label} {'–' if old is None else m.with_unit(old.value)} → {'–' if new is None else m.with_unit(new.value)}"
    )


def _verdicts(regraded: Sequence[Regraded]) -> str:
    n = sum(r.verdicts for r in regraded)
    return f" and {n} self-verdicts" if n else ""


def _written(root: Path, paths: list[Path]) -> list[str]:
    if len(paths) <= LISTED:
        return ["wrote:", *(f"  {p}" for p in paths)]
    names = sorted({p.name for p in paths})
    return [f"wrote {len(paths)} files ({', '.join(names)}) beside {EPISODES} in each directory above, under {root}"]


def usage() -> str:
    """``score-env regrade --help``."""
    files = EvalLayout(Path())
    return f"""usage: score-env regrade <run dir> [import=<module>]

re-grades every saved episode of an eval run or a benchmark report with the current grader of the env it used
(after a grader fix, or to compare graders), and writes beside each {EPISODES}, keeping every file the run wrote:
  {files.metrics_regraded}      {files.metrics.name}'s metrics, of the re-graded episodes
  {files.regrade_changes}      one line per attempt whose grade changed: where, the old grade and the new
  {files.correction_regraded}   the fix and break rates, where attempt 1 was a fixed one
import=<module>: the module that registers the run's task, if it is one of your own"""
