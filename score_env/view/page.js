// score-env view: the episode browser. Every text from the data goes into the page as a text node (append/textContent),
// never as markup: a model's answer that holds a script end tag or an <img onerror=...> reads as what it is.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("view-data").textContent);
  const LABELS = {
    i2c: "wrong → right", c2i: "right → wrong", i2i_changed: "wrong → wrong, changed",
    i2i_same: "wrong → wrong, unchanged", c2c: "right → right", right: "right", wrong: "wrong",
    example: "training example",
  };
  const TWO_ATTEMPTS = ["i2c", "c2i", "i2i_changed", "i2i_same", "c2c"];
  const PAGE = 40;
  const state = { run: 0, filter: "all", query: "", shown: PAGE };
  const $ = (id) => document.getElementById(id);
  const byGroup = {}; // group -> problem key -> [[run index, episode], ...]: the same problem in each run

  DATA.runs.forEach((run, r) => {
    const keys = (byGroup[run.group] = byGroup[run.group] || {});
    for (const e of run.episodes) (keys[e.key] = keys[e.key] || []).push([r, e]);
  });

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  // The text with its changed ranges (flat [start, end, ...] UTF-16 offsets) wrapped in <del> or <ins>.
  function marked(text, marks, tag) {
    const out = document.createDocumentFragment();
    let at = 0;
    for (let i = 0; i < marks.length; i += 2) {
      if (marks[i] > at) out.append(text.slice(at, marks[i]));
      out.append(el(tag, {}, text.slice(marks[i], marks[i + 1])));
      at = marks[i + 1];
    }
    if (at < text.length) out.append(text.slice(at));
    return out;
  }

  // Long texts start collapsed, with a button that shows all of them.
  function collapsible(pre, text) {
    const lines = text.split("\n").length;
    if (text.length <= 600 && lines <= 12) return pre;
    pre.classList.add("collapsed");
    const button = el("button", { class: "expand", type: "button" }, `show all (${lines} lines)`);
    button.addEventListener("click", () => {
      button.textContent = pre.classList.toggle("collapsed") ? `show all (${lines} lines)` : "collapse";
    });
    return el("div", { class: "collapsible" }, pre, button);
  }

  function gradeLine(a) {
    if (a.correct === null) return el("span", { class: "grade" }, "not graded");
    return el("span", { class: "grade " + (a.correct ? "ok" : "bad") }, (a.correct ? "✓ " : "✗ ") + a.reason);
  }

  function attemptBox(a, t) {
    const meta = el("div", { class: "meta" }, el("b", {}, `attempt ${t + 1}`), gradeLine(a));
    if (a.extracted !== undefined && a.extracted !== null) {
      meta.append(el("span", {}, "answer ", el("code", {}, a.extracted)));
    }
    if (a.sandbox) meta.append(el("span", {}, "sandbox " + a.sandbox));
    if (a.finish === "length") meta.append(el("span", {}, "cut at max_new_tokens"));
    if (a.from_base) meta.append(el("span", {}, "from the base model"));
    const pre = el("pre", { class: "text" }, marked(a.text, a.marks || [], t === 0 ? "del" : "ins"));
    const box = el("div", { class: "attempt" }, meta, collapsible(pre, a.text));
    if (a.detail) box.append(el("details", {}, el("summary", {}, "grader output (tail)"), el("pre", {}, a.detail)));
    return box;
  }

  function attempts(e) {
    return el("div", { class: "attempts" }, ...e.attempts.map(attemptBox));
  }

  function problemLabel(e) {
    return e.key.endsWith("#0") ? e.key.slice(0, -2) : e.key.replace("#", " sample ");
  }

  function card(e, run) {
    const head = el("div", { class: "head" },
      el("span", { class: "tag t-" + e.transition }, LABELS[e.transition]),
      el("span", { class: "pid" }, problemLabel(e)),
      e.caption ? el("span", { class: "caption" }, e.caption) : null,
      el("span", { class: "ratio" }, "edit ratio " + e.edit_ratio.toFixed(3)));
    const others = (byGroup[run.group][e.key] || []).length;
    if (others > 1) {
      const button = el("button", { class: "compare-button", type: "button" }, `compare ${others} runs`);
      button.addEventListener("click", () => showCompare(run.group, e));
      head.append(button);
    }
    const problem = DATA.problems[e.problem];
    return el("li", { class: "episode", "data-transition": e.transition, "data-key": e.key },
      head, collapsible(el("pre", { class: "problem" }, problem), problem), attempts(e));
  }

  // The same problem in every run of the group (every method of one seed), one row each.
  function showCompare(group, e) {
    const panel = $("compare");
    const close = el("button", { type: "button" }, "close");
    close.addEventListener("click", () => { panel.hidden = true; panel.replaceChildren(); });
    const problem = DATA.problems[e.problem];
    const title = el("b", {}, "Problem " + problemLabel(e) + " in every run");
    panel.replaceChildren(el("div", { class: "head" }, title, close),
      collapsible(el("pre", { class: "problem" }, problem), problem));
    for (const [r, other] of byGroup[group][e.key]) {
      const label = el("div", { class: "label" }, DATA.runs[r].label, el("br"),
        el("span", { class: "tag t-" + other.transition }, LABELS[other.transition]));
      panel.append(el("div", { class: "row" }, label, attempts(other)));
    }
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
  }

  function matches(e, query) {
    if (!query) return true;
    if (e._hay === undefined) {
      e._hay = [e.key, DATA.problems[e.problem], ...e.attempts.map((a) => a.text)].join("\n").toLowerCase();
    }
    return e._hay.includes(query);
  }

  function renderRuns() {
    const runs = DATA.runs.map((run, r) => {
      const button = el("button", { type: "button", "data-run": String(r) }, run.label);
      button.addEventListener("click", () => { state.run = r; state.filter = "all"; state.shown = PAGE; render(); });
      return button;
    });
    $("runs").replaceChildren(...runs);
  }

  function renderFilters(run) {
    const counts = {};
    for (const e of run.episodes) counts[e.transition] = (counts[e.transition] || 0) + 1;
    const twoAttempts = run.episodes.some((e) => TWO_ATTEMPTS.includes(e.transition));
    const shown = Object.keys(LABELS).filter((t) => counts[t] || (twoAttempts && TWO_ATTEMPTS.includes(t)));
    const buttons = [["all", "all", run.episodes.length], ...shown.map((t) => [t, LABELS[t], counts[t] || 0])];
    $("filters").replaceChildren(...buttons.map(([t, label, n]) => {
      const active = t === state.filter;
      const attrs = { type: "button", "data-filter": t, class: active ? "active" : "", "aria-pressed": String(active) };
      const button = el("button", attrs,
        label, el("span", { class: "count" }, String(n)));
      button.addEventListener("click", () => { state.filter = t; state.shown = PAGE; render(); });
      return button;
    }));
  }

  function render() {
    const run = DATA.runs[state.run];
    for (const b of $("runs").children) {
      const active = Number(b.dataset.run) === state.run;
      b.classList.toggle("active", active);
      b.setAttribute("aria-pressed", String(active));
    }
    renderFilters(run);
    const query = state.query.trim().toLowerCase();
    const wanted = (e) => state.filter === "all" || e.transition === state.filter;
    const rows = run.episodes.filter((e) => wanted(e) && matches(e, query));
    $("episodes").replaceChildren(...rows.slice(0, state.shown).map((e) => card(e, run)));
    const what = state.filter === "all" ? "" : ` (${LABELS[state.filter]})`;
    const searched = query ? ` matching “${state.query.trim()}”` : "";
    $("status").textContent = `${run.label}: showing ${Math.min(state.shown, rows.length)} of ${rows.length} episodes` +
      what + searched + (run.note ? `. ${run.note}` : "");
    $("more").hidden = rows.length <= state.shown;
  }

  for (const figure of document.querySelectorAll("#figures figure")) {
    figure.addEventListener("click", () => figure.classList.toggle("wide")); // a plot at full width, and back
  }
  $("more").addEventListener("click", () => { state.shown += PAGE; render(); });
  $("search").addEventListener("input", (event) => { state.query = event.target.value; state.shown = PAGE; render(); });
  if (DATA.runs.length) {
    renderRuns();
    render();
  } else {
    $("status").textContent = "No episodes in this run directory.";
  }
  document.body.dataset.ready = String(performance.now());
})();
