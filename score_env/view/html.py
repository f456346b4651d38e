"""The page: one HTML file with its style, its script and its data inline, so it opens from ``file://`` with no
server and no network (its Content-Security-Policy forbids every fetch).

Everything a model wrote is untrusted: the results table, a validate run's checks and the captions are escaped
here, the episodes travel as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as
``\\u003c``... (so no text can close the element), and the script puts them in the page as text nodes only, never
as markup. Text is shown through :func:`score_env.text.escape_text` (a NUL, a terminal escape, a lone surrogate as a
visible escape), and the data is written with :func:`score_env.text.dump_json`, so no string can stop the page from
being written.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import TYPE_CHECKING

from score_env.metric_catalogue import FIXED, HEADLINE, Metric, fact_columns, legend, metric, table_columns
from score_env.metrics import Estimate, SelfCorrectionReport
from score_env.text import dump_json, escape_text
from score_env.view.model import ResultRow, ViewPage, page_json

if TYPE_CHECKING:
    from score_env.validation import CheckResult, Example

COUNTS = {"delta_i_to_c": "n_i_to_c", "delta_c_to_i": "n_c_to_i"}  # the episodes behind a rate, shown beside it
PLACEHOLDER = re.compile(r"<!--@(\w+)-->|/\*@(\w+)\*/")
ERROR_CHARS = 600  # of a failed method's error message, in its table row (error.txt in its directory has it all)
# A validate run's tables: the columns of score-env validate's console table, then each failing example's.
CHECK_COLUMNS = ("check", "result", "count", "worst example / note")
EXAMPLE_COLUMNS = ("problem", "probe", "answer", "reward", "reason", "detail", "time")
EXAMPLE_CHARS = 400  # of an example's answer, detail, line (validate.json keeps 160; a hand-edited one may hold more)
_STATUS = {"pass": "grade ok", "fail": "grade bad", "skip": "skipped"}  # a check's result, coloured as a grade's


def render_page(page: ViewPage) -> str:
    """The whole page, ready to write."""
    parts = {
        "title": html_text(page.title),
        "facts": "".join(f"<li>{html_text(f)}</li>" for f in page.facts),
        "notes": "".join(f'<p class="note">{html_text(n)}</p>' for n in page.notes),
        "results": results_table(page.results),
        "checks": checks_section(page.checks),
        "figures": figures(page),
        "instruction": _instruction(page.instruction),
        "data": embed_json(page_json(page)),
        "css": _asset("page.css"),
        "js": _asset("page.js"),
    }
    template = _asset("page.html")
    return PLACEHOLDER.sub(lambda m: parts[m.group(1) or m.group(2)], template)  # one pass: data is never re-read


def embed_json(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element: nothing in it can end the element or open a comment."""
    text = dump_json(data, compact=True)
    for char, code in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, code)
    return text


def html_text(text: str, limit: int | None = None) -> str:
    """Any text as HTML element content or an attribute value: hidden characters shown, markup escaped."""
    return escape(escape_text(text, limit))


def results_table(rows: tuple[ResultRow, ...]) -> str:
    """The metric catalogue's table columns (``results.md`` shows the same), the runs' facts, then the rates on the
    base model's first attempts where a run measured them."""
    if not rows:
        return ""
    reports = [row.report for row in rows if row.report is not None]
    columns = table_columns([{k: e.value for k, e in r.estimates.items()} for r in reports])
    facts = fact_columns([row.facts for row in rows if row.report is not None])
    fixed = [metric(k) for k in FIXED if any(k in row.fixed for row in rows)]
    head = ["method", *(m.label for m in (*columns, *facts, *fixed))]
    lines = ['<div class="scroll"><table class="results"><thead><tr>', *(f"<th>{html_text(h)}</th>" for h in head)]
    lines.append("</tr></thead><tbody>")
    for row in rows:
        cells = [html_text(row.label)]
        if row.report is None:
            cells.append(f'<span class="failed">failed: {html_text(row.error, ERROR_CHARS)}</span>')
            lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f'<td colspan="{len(head) - 2}"></td></tr>')
            continue
        cells += [_rate(row.report, m) if m.key in HEADLINE else _plain(row.report.estimates.get(m.key), m)
                  for m in columns]  # fmt: skip
        cells += [m.text(row.facts[m.key]) if m.key in row.facts else "–" for m in facts]
        cells += [_plain(row.fixed.get(m.key), m) for m in fixed]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines.append("</tbody></table></div>")
    keys = [m.key for m in (*columns, *facts, *fixed)]
    note = (
        f'<p class="legend">Rates in % over all episodes; {", ".join(m.label for m in columns if m.key in HEADLINE)} '
        "with the bootstrap 95% interval over problems; Δi→c and Δc→i also as episode counts (n), the counts of the "
        f"filters below. {html_text(legend(keys))}.</p>"
    )
    return "".join(lines) + note


def checks_section(checks: Sequence[CheckResult]) -> str:
    """A validate run: the table ``score-env validate`` prints (a failing check's row links to its examples), then
    every failing check's examples as ``validate.json`` keeps them."""
    if not checks:
        return ""
    rows = []
    for number, check in enumerate(checks):
        name = html_text(check.name, EXAMPLE_CHARS)
        if check.status == "fail":
            name = f'<a href="#failing-{number}">{name}</a>'
        count = "–" if check.status == "skip" else f"{check.tried - check.failed}/{check.tried}"
        note = html_text(check.worst or check.note, EXAMPLE_CHARS)
        if check.worst and check.note:
            note += f"<br><small>{html_text(check.note, EXAMPLE_CHARS)}</small>"
        status = f'<span class="{_STATUS.get(check.status, "")}">{html_text(check.status.upper())}</span>'
        rows.append(f"<tr><td>{name}</td><td>{status}</td><td>{count}</td><td>{note}</td></tr>")
    head = "".join(f"<th>{c}</th>" for c in CHECK_COLUMNS)
    legend = (
        '<p class="legend">count: the answers that passed of those the check tried; worst example: problem, probe, '
        "the answer, its reward and grade reason. Answers and details as validate.json keeps them (their start).</p>"
    )
    failing = [_failing_examples(number, c) for number, c in enumerate(checks) if c.status == "fail"]
    return (
        f'<section id="checks"><div class="scroll"><table class="checks"><thead><tr>{head}</tr></thead><tbody>'
        f"{''.join(rows)}</tbody></table></div>{legend}{''.join(failing)}</section>"
    )


def _failing_examples(number: int, check: CheckResult) -> str:
    kept = len(check.examples)
    more = f" (validate.json keeps the first {kept})" if kept < check.failed else ""
    title = f"{html_text(check.name, EXAMPLE_CHARS)} failed on {check.failed} of {check.tried}{more}"
    head = "".join(f"<th>{c}</th>" for c in EXAMPLE_COLUMNS)
    rows = "".join(_example_row(e) for e in check.examples)
    note = f'<p class="legend">{html_text(check.note, EXAMPLE_CHARS)}</p>' if check.note else ""
    return (
        f'<h2 id="failing-{number}">{title}</h2>{note}<div class="scroll"><table class="examples"><thead><tr>{head}'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _example_row(e: Example) -> str:
    cells = (
        f'<span class="pid">{html_text(e.problem_id, EXAMPLE_CHARS)}</span>',
        html_text(e.kind, EXAMPLE_CHARS),
        f"<pre>{html_text(e.answer, EXAMPLE_CHARS)}</pre>",
        "–" if e.reward is None else f"{e.reward:g}",
        html_text(e.reason, EXAMPLE_CHARS),
        f"<pre>{html_text(e.detail, EXAMPLE_CHARS)}</pre>" if e.detail else "",
        f"{e.seconds * 1000:.1f} ms",
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def figures(page: ViewPage) -> str:
    out = []
    for figure in page.figures:
        if figure.png:
            data = base64.b64encode(figure.png).decode()
            body = f'<img src="data:image/png;base64,{data}" alt="{html_text(figure.caption)}" loading="lazy">'
        else:
            body = figure.svg  # built by view.curves from numbers, every label escaped
        out.append(f"<figure>{body}<figcaption>{html_text(figure.caption)}</figcaption></figure>")
    return "".join(out)


def _rate(report: SelfCorrectionReport, m: Metric) -> str:
    estimate = report.estimates.get(m.key)
    if estimate is None:
        return "–"
    text = f"{m.text(estimate.value)} <small>{m.interval(estimate.low, estimate.high)}</small>"
    if m.key in COUNTS and COUNTS[m.key] in report.counts:
        text += f' <span class="n">n={report.counts[COUNTS[m.key]]}</span>'
    return text


def _plain(estimate: Estimate | None, m: Metric) -> str:
    return "–" if estimate is None else m.text(estimate.value)


def _instruction(text: str) -> str:
    if not text:
        return ""
    return f'<p class="instruction">Before attempt 2 the model is shown its attempt and: <q>{html_text(text)}</q></p>'


def _asset(name: str) -> str:
    text = resources.files("score_env.view").joinpath(name).read_text(encoding="utf-8")
    if name != "page.html" and "</" + "script" in text.lower():  # it would end the inline element early
        raise ValueError(f"score_env/view/{name} must not contain a script end tag")
    return text
