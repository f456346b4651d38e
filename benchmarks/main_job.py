"""Time the main job: ``score-env benchmark`` on the embedded defaults, against its 15-minute budget on 2 cores.

    python benchmarks/main_job.py [extra key=value overrides]

Runs the command as a user would (a fresh process, a fresh report directory unless ``report_dir=`` is given, which
keeps the report) and prints its wall-clock time, the ratio to the budget and the machine's load average before and
after (another heavy job on the 2 cores makes the figure wrong).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 15 * 60


def main() -> None:
    given = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("report_dir=")]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(given[0]) if given else Path(tmp) / "report"
        overrides = sys.argv[1:] if given else [f"report_dir={report}", *sys.argv[1:]]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        subprocess.run(["score-env", "benchmark", *overrides], check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        print((report / "results.md").read_text())
    print(f"score-env benchmark: {seconds / 60:.1f} min wall clock; budget 15 min; {seconds / BUDGET_S:.2f}x budget; "
          f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip


if __name__ == "__main__":
    main()
