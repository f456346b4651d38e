"""Time the main job: ``score-env benchmark`` on the embedded defaults, against its 15-minute budget on 2 cores.

    python benchmarks/main_job.py [extra key=value overrides]

Runs the command as a user would (a fresh process, a fresh report directory) and prints its wall-clock time and the
ratio to the budget.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 15 * 60


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        start = time.perf_counter()
        subprocess.run(
            ["score-env", "benchmark", f"report_dir={report}", *sys.argv[1:]], check=True, stdout=subprocess.DEVNULL
        )
        seconds = time.perf_counter() - start
        print((report / "results.md").read_text())
    print(f"score-env benchmark: {seconds / 60:.1f} min wall clock; budget 15 min; {seconds / BUDGET_S:.2f}x budget")


if __name__ == "__main__":
    main()
