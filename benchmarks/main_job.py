"""Time the main job: ``score-env benchmark`` on the embedded defaults, against its 15-minute budget on 2 cores.

    python benchmarks/main_job.py [--against REV] [--rounds N] [extra key=value overrides]

Runs the command as a user would (a fresh process, a fresh report directory unless ``report_dir=`` is given, which
keeps the report) and prints its wall-clock time, the ratio to the budget, the machine's load average before and
after (another heavy job on the 2 cores makes the figure wrong), training episodes per minute, and the profile:
per method, the seconds in each phase (training's sampling, grading, learner forward/backward, probe, checkpoints;
evaluation; analyses) with the cores in use during each (CPU seconds of every thread per wall-clock second).

``--against REV`` runs the job at git revision REV too (a temporary worktree on ``PYTHONPATH``), alternating
new/old ``--rounds`` times on the same machine in the same run, and prints the ratio of training episodes per minute
and whether the two reports' tables are identical (the same seed must give the same numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from score_env.layout import BenchmarkLayout

BUDGET_S = 15 * 60
ROOT = Path(__file__).resolve().parent.parent
COLUMNS = {  # column: the phase keys (score_env.profile) it adds up, by prefix (the first column that matches)
    "sampling": ("training/sampling",),
    "grading": ("training/grading",),
    "learner": ("training/learner",),
    "probe": ("training/probe",),
    "ckpt": ("training/checkpoint",),
    "train other": ("training",),
    "evaluation": ("evaluation", "base first attempts"),
    "analyses": ("analyses",),
}


def column(key: str) -> str:
    return next((name for name, prefixes in COLUMNS.items() if key.startswith(prefixes)), "other")


def run_job(overrides: list[str], report: Path, source: Path | None) -> float:
    """Seconds the benchmark took; ``source``: a checkout whose ``score_env`` to run instead of the installed one."""
    env = dict(os.environ)
    command = ["score-env", "benchmark"]
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{env.get('PYTHONPATH', '')}"
        command = [sys.executable, "-m", "score_env", "benchmark"]
    start = time.perf_counter()
    subprocess.run([*command, f"report_dir={report}", *overrides], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def training_episodes(report: Path) -> int:
    """Training episodes the methods sampled (each method's ``episodes_sampled``)."""
    results = BenchmarkLayout(report).method_results()
    return sum(int(json.loads(r.read_text()).get("episodes_sampled", 0)) for r in results)


def profile_table(report: Path) -> str:
    """Per method (and the base model's first attempts): wall seconds per column, and the cores in use."""
    rows = ["| part | " + " | ".join(COLUMNS) + " | total |", "|---" * (len(COLUMNS) + 2) + "|"]
    layout = BenchmarkLayout(report)
    for path in [layout.first_attempts.profile, *layout.method_profiles()]:
        if not path.exists():
            continue
        spent = json.loads(path.read_text())
        cells = []
        for name in COLUMNS:
            wall = sum(v["wall_s"] for k, v in spent.items() if column(k) == name)
            cpu = sum(v["cpu_s"] for k, v in spent.items() if column(k) == name)
            cells.append(f"{wall:.0f} s ({cpu / wall:.1f})" if wall >= 0.5 else "-")
        wall = sum(v["wall_s"] for v in spent.values())
        cpu = sum(v["cpu_s"] for v in spent.values())
        name = path.parent.name if path.parent.name != "first-attempts" else "base first attempts"
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {wall:.0f} s ({cpu / wall:.1f}) |")
    return "\n".join(rows) + "\n(seconds of wall clock; in brackets, cores in use: CPU seconds per wall second)"


def tables(report: Path) -> list[str]:
    """results.md without the line naming the version and the time: what the two runs computed."""
    return [
        line
        for line in BenchmarkLayout(report).results_md.read_text().splitlines()
        if not line.startswith("- score-env ")
    ]


def measure(label: str, overrides: list[str], report: Path, source: Path | None) -> float:
    load = os.getloadavg()[0]
    seconds = run_job(overrides, report, source)
    episodes = training_episodes(report)
    per_minute = episodes / (seconds / 60)
    print(
        f"{label}: {seconds / 60:.1f} min wall clock ({seconds / BUDGET_S:.2f}x the 15-minute budget); "
        f"{episodes} training episodes, {per_minute:.0f} per minute; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after",
        flush=True,
    )
    return per_minute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git revision to time against, alternating, in the same run")
    parser.add_argument("--rounds", type=int, default=1, help="new/old pairs with --against")
    args, overrides = parser.parse_known_args()
    given = [a.split("=", 1)[1] for a in overrides if a.startswith("report_dir=")]
    overrides = [a for a in overrides if not a.startswith("report_dir=")]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(given[0]) if given else Path(tmp) / "report"
        if not args.against:
            measure("score-env benchmark", overrides, report, None)
            print(BenchmarkLayout(report).results_md.read_text())
            print(profile_table(report))
            return
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against], check=True)
        try:
            ratios = []
            for round_ in range(args.rounds):
                new_rate = measure(f"round {round_ + 1}, this tree", overrides, Path(tmp) / f"new-{round_}", None)
                print(profile_table(Path(tmp) / f"new-{round_}"), flush=True)
                old_rate = measure(f"round {round_ + 1}, {args.against}", overrides, Path(tmp) / f"old-{round_}", old)
                ratios.append(new_rate / old_rate)
                same = tables(Path(tmp) / f"new-{round_}") == tables(Path(tmp) / f"old-{round_}")
                print(
                    f"round {round_ + 1}: {ratios[-1]:.2f}x the training episodes per minute of {args.against}; "
                    f"results.md {'identical' if same else 'DIFFERENT'} (but for the version line)"
                )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


if __name__ == "__main__":
    main()
