"""``score-env view <run dir>``: one self-contained ``view.html`` to read what a run did, episode by episode.

For a benchmark report and an eval run: the results table, the plots, and an episode browser per method (and seed):
the problem, the attempts side by side with what attempt 2 changed marked word by word, each attempt's grade,
filters by transition (wrong→right, right→wrong, ...) with their counts, search, and the same problem across
methods. For a training run: its curves and episodes it played early, midway and late (``samples.jsonl``). For a
validate run (``score-env validate``; its directory, or its ``validate.json`` named directly, the page then written
beside it): the checks table, every failing check's examples, and what was validated.

Layout: ``sources``, ``training`` and ``validation`` read run directories into the records of ``model`` (``diff``
marks the changes), ``curves`` draws a training run's SVG, ``html`` renders the page from ``page.html``, ``page.css``
and ``page.js``.
"""

from __future__ import annotations

from pathlib import Path

from score_env.layout import EvalLayout
from score_env.runs import write_atomic
from score_env.view.html import render_page
from score_env.view.sources import read_run


def write_view(run_dir: Path) -> Path:
    """Write ``<run_dir>/view.html`` and return its path; ``ConfigError`` if ``run_dir`` is no run directory. A
    validate run's ``validate.json`` may be given instead of its directory: the page goes beside it."""
    page = render_page(read_run(run_dir))
    folder = run_dir.parent if run_dir.is_file() else run_dir
    path = EvalLayout(folder).view  # every kind of run directory keeps its page at the same place
    write_atomic(path, page)
    return path


__all__ = ["write_view"]
