"""The learning check: every trained method of a benchmark run learned what it optimises (not a timed test).

    python benchmarks/learning.py                 # runs the default benchmark, seeds 0-2, first (27 min, 2 cores)
    python benchmarks/learning.py <report dir>    # checks a finished run (any preset, any seeds)

For every trained method and seed it prints the training objective early (the first fifth of the updates) and late
(the last fifth) with a 95% interval of the change (Welch, over updates): the reward of the attempt each method is
rewarded on for RL methods (reward@t2 for the multi-turn ones, reward@t1 for single-turn RL), the loss for SFT
methods; then the same per method with every seed's updates together. It fails (exit 1) when an RL method's
training reward does not rise (the pooled interval of the change does not lie above zero), or when single-turn RL
ends below the base model's held-out Acc@t1 beyond the interval. Each update's reward is a mean over its own
P x k episodes on different problems, so with one seed and a short run the interval is wide: the per-seed rows
show it; the verdict uses every seed the report has (the README's figures: 3).

A rising reward can hide that no correction was learnt (a better attempt 1 lifts reward@t2 too), so the check also
reports correction itself: the training Δ (reward@t2 − reward@t1, early vs late) and the probe (``probes.jsonl``: on
validation problems, the fix rate after the base model's frozen greedy first attempts and the policy's own Acc@t1,
before training, at the end of each stage, e.g. Stage I, and at the end). It fails a correction method (every trained
method but single-turn RL) whose fix rate does not rise from the start to the end: the change pooled over seeds must
be positive with an exact sign test p below 0.05 over the validation problems (each problem's change averaged over
seeds; McNemar's test with one seed). Collapse alarms (Acc@t1
falling while the training Δ rises) are printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from score_env.layout import BenchmarkLayout
from score_env.runs import read_jsonl
from score_env.stats import mcnemar_exact
from score_env.training.summary import change_interval, early_late, objective_key

NOT_CORRECTION = {"score_single_turn"}  # the compute reference: never trained at attempt 2


def main() -> int:
    if len(sys.argv) > 1:
        return check(Path(sys.argv[1]))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        command = ["score-env", "benchmark", "seeds=[0,1,2]", f"report_dir={report}"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return check(report)


def check(report: Path) -> int:
    results = json.loads(BenchmarkLayout(report).results.read_text())
    print(f"{'method':<20} {'seed':>4} {'objective':<12} {'early':>8} {'late':>8} {'change [95% interval]':>28}")
    pooled: dict[str, tuple[str, list[float], list[float]]] = {}
    for result in results:
        if result["status"] != "done" or not result["updates"]:
            continue
        records = read_jsonl(BenchmarkLayout(report).method(result["seed"], result["name"]).train.metrics_log)
        key = objective_key(records)
        first, last = early_late(records, key)
        _print_row(result["name"], str(result["seed"]), key, first, last)
        _, firsts, lasts = pooled.setdefault(result["name"], (key, [], []))
        firsts += first
        lasts += last
    print("\nper method, every seed's updates together (the verdict):")
    failures = []
    for name, (key, first, last) in pooled.items():
        low = _print_row(name, "all", key, first, last)
        if key.startswith("reward") and low <= 0:
            print(f"{'':<20} <- FAIL: the training reward does not rise")
            failures.append(name)
    failures += _single_turn_below_base(results)
    failures += _correction(report, results)
    print("learning check:", "FAILED for " + ", ".join(failures) if failures else "passed")
    return 1 if failures else 0


def _correction(report: Path, results: list[dict]) -> list[str]:
    """Training Δ and the probe's fix rate per method and seed, and the verdict on the fix rate per method."""
    print("\ncorrection: training Δ (reward@t2 − reward@t1, first vs last fifth), and the probe on validation problems")
    print("(fix rate after the base model's frozen first attempts / own Acc@t1, at each probe point):")
    pooled: dict[str, list[tuple[list[int], list[int]]]] = {}  # method -> per seed: (start, end) per problem
    for result in results:
        if result["status"] != "done" or not result["updates"]:
            continue
        train = BenchmarkLayout(report).method(result["seed"], result["name"]).train
        records = read_jsonl(train.metrics_log)
        deltas = [{"d": r["reward@t2"] - r["reward@t1"]} for r in records if "reward@t2" in r and "reward@t1" in r]
        delta = ""
        if len(deltas) >= 4:
            first, last = early_late(deltas, "d")
            delta = f"training Δ {_mean(first):+.3f} -> {_mean(last):+.3f}; "
        probes = read_jsonl(train.probes_log)
        points = ", ".join(
            f"{p['stage']} (step {p['step']}): {_pct(p.get('fix'))} / {_pct(p.get('acc@t1'))}" for p in probes
        )
        print(f"  {result['name']} (seed {result['seed']}): {delta}{points or 'no probe'}")
        for alarm in result.get("alarms", []):
            print(f"    ALARM: {alarm}")
        first = probes[0] if probes else {}
        if first.get("stage") == "start" and len(probes) >= 2 and result["name"] not in NOT_CORRECTION:
            pooled.setdefault(result["name"], []).append((first.get("fixed", []), probes[-1].get("fixed", [])))
    failures = []
    for name, seeds in pooled.items():
        n = len(seeds[0][0])
        if not n or any(len(s) != n or len(e) != n for s, e in seeds):
            print(
                f"  {name}: no wrong validation first attempt to fix (or the seeds probed different ones): no verdict"
            )
            continue
        # problems are the units: each problem's change averaged over seeds, then an exact sign test
        change = [sum(e[p] - s[p] for s, e in seeds) / len(seeds) for p in range(n)]
        gained, lost = sum(c > 0 for c in change), sum(c < 0 for c in change)
        p = mcnemar_exact(gained, lost)
        before = sum(sum(s) for s, _ in seeds) / (n * len(seeds))
        after = sum(sum(e) for _, e in seeds) / (n * len(seeds))
        ok = after > before and p < 0.05
        print(f"  {name}: fix rate {_pct(before)} -> {_pct(after)} over {len(seeds)} seed(s) ({n} wrong first "
              f"attempts; {gained} problems fixed more often, {lost} less; exact sign test p {p:.2g})"
              + ("" if ok else "  <- FAIL: the fix rate does not rise"))  # fmt: skip
        if not ok:
            failures.append(f"{name} (fix rate)")
    return failures


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _print_row(name: str, seed: str, key: str, first: list[float], last: list[float]) -> float:
    """Print the early and late means and a 95% (Welch) interval of the change; return its lower end."""
    change, low, high = change_interval(first, last)
    means = f"{_mean(first):8.3f} {_mean(last):8.3f}"
    print(f"{name:<20} {seed:>4} {key:<12} {means} {change:+8.3f} [{low:+.3f}, {high:+.3f}]")
    return low


def _single_turn_below_base(results: list[dict]) -> list[str]:
    failures = []
    base = {r["seed"]: r for r in results if r["name"] == "prompting" and r["status"] == "done"}
    for r in results:
        if r["name"] != "score_single_turn" or r["status"] != "done" or r["seed"] not in base:
            continue
        mine, theirs = r["report"]["estimates"]["acc@t1"], base[r["seed"]]["report"]["estimates"]["acc@t1"]
        below = mine["high"] < theirs["value"]
        print(
            f"single-turn RL Acc@t1 {100 * mine['value']:.1f} [{100 * mine['low']:.1f}, {100 * mine['high']:.1f}] "
            f"vs the base model's {100 * theirs['value']:.1f} (seed {r['seed']})" + ("  <- FAIL" if below else "")
        )
        if below:
            failures.append(f"score_single_turn (Acc@t1 below the base model's, seed {r['seed']})")
    return failures


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


if __name__ == "__main__":
    sys.exit(main())
