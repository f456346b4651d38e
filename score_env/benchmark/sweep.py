"""``score-env sweep``: each trained method's learning rate, chosen from a small grid on validation problems.

The protocol, the same for every method: the benchmark's budget and first seed; a run per (method, rate); the
greedy Acc@t2 on the validation problems, the last ``validation_problems`` of the *train* split (never trained on,
never the test split); the rate with the highest Acc@t2 wins, the lower rate on a tie. The chosen rates are printed as
the ``lrs:`` block to record in the benchmark preset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from score_env.benchmark.method import Wiring, run_method
from score_env.benchmark.results import MethodResult
from score_env.config import BenchmarkConfig
from score_env.layout import SweepLayout
from score_env.runs import open_run_dir, write_atomic


@dataclass(frozen=True)
class SweepResult:
    scores: dict[str, dict[float, float | None]]  # method -> rate -> validation Acc@t2 (None: the run failed)
    chosen: dict[str, float]  # method -> rate

    def preset_block(self) -> str:
        """The ``lrs:`` lines for the benchmark preset."""
        return "lrs:\n" + "".join(f"  {name}: {rate:g}\n" for name, rate in self.chosen.items())


def run_sweep(
    config: BenchmarkConfig, grid: list[float], wiring: Wiring, sweep_dir: Path, console: Console
) -> SweepResult:
    open_run_dir(
        sweep_dir, {"benchmark": config.model_dump(mode="json", by_alias=True, exclude={"report_dir"}), "grid": grid}
    )
    n_train = wiring.train_env.n_problems
    validation = list(range(n_train - config.validation_problems, n_train))
    layout = SweepLayout(sweep_dir)
    quiet = config.model_copy(
        update={
            "sampled_eval": config.sampled_eval.model_copy(update={"problems": 0}),
            "scaling": config.scaling.model_copy(update={"problems": 0}),
            "distribution_shift": False,
            "ceiling_samples": 0,
            "probe_problems": 0,
        }
    )
    on_validation = Wiring(wiring.train_env, wiring.train_env, wiring.agent_config)
    scores: dict[str, dict[float, float | None]] = {}
    for name in config.methods[1:]:
        scores[name] = {}
        for rate in grid:
            console.rule(f"sweep: {name}, lr {rate:g}")
            run = quiet.model_copy(update={"lrs": {**config.lrs, name: rate}})
            outcome = run_method(
                name, run, config.seeds[0], on_validation, validation, layout.run(name, rate).root, console
            )
            ok = isinstance(outcome, MethodResult)
            scores[name][rate] = outcome.report.estimates["acc@t2"].value if ok else None
    chosen = {name: _best(by_rate) for name, by_rate in scores.items()}
    result = SweepResult(scores, chosen)
    table = {n: {f"{r:g}": s for r, s in by_rate.items()} for n, by_rate in scores.items()}
    write_atomic(layout.scores, json.dumps({"acc@t2": table, "chosen": chosen}, indent=2) + "\n")
    write_atomic(layout.lrs, result.preset_block())
    return result


def _best(by_rate: dict[float, float | None]) -> float:
    scored = [(score, -rate) for rate, score in by_rate.items() if score is not None]
    if not scored:
        raise RuntimeError("every rate of the grid failed for this method; see its error.txt files")
    return -max(scored)[1]
