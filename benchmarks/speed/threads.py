"""Torch threads per phase: the main job's phases with 1 and 2 intra-op threads, and two 1-thread processes at once.

    python benchmarks/speed/threads.py [--repeats 3] [--problems 64]

Each phase is one unit of the main job's work on the committed embedded model: *sampling* (a two-attempt rollout of
``--problems`` problems x 1 sample at temperature 1, up to 128 tokens an attempt, as training samples), *learner*
(one SCoRe Stage II loss on those episodes, backward, Adam step), *evaluation* (the same rollout, greedy). Each unit
runs in a fresh process per setting, best of ``--repeats``; the settings alternate. Three settings:

- 1 process, 1 thread; 1 process, 2 threads (torch's default on this machine);
- 2 processes at once, 1 thread each (how ``score-env benchmark`` runs its methods with ``workers`` = 0 on 2 cores):
  their throughput is 2 units per the slower process's time.

Prints units per second for each and the ratios: the throughput the cores give in each arrangement.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

UNIT = r"""
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
phase, problems = sys.argv[2], int(sys.argv[3])
from functools import partial
from score_env import envs
from score_env.assets import embedded_model_path
from score_env.policies import SamplingParams
from score_env.policies.factory import load_policy
from score_env.registry import EnvFactory
from score_env.rollout import collect_episodes
policy = load_policy(str(embedded_model_path()))
make = partial(EnvFactory("score/Arithmetic-v0", "train").open(), 2)  # arithmetic holds nothing to close
temperature = 0.0 if phase == "evaluation" else 1.0
play = lambda: collect_episodes(make, policy, list(range(problems)), SamplingParams(temperature, 1.0, 128), seed=1)
groups = play()
if phase == "learner":
    from score_env.agents.score import stages_for
    from score_env.agents.score import ScoreAgentConfig
    from score_env.learner.reference import FrozenCopy
    from score_env.learner.rl import score_loss
    stage = stages_for(ScoreAgentConfig())[-1]
    reference, optimizer = FrozenCopy(policy.model), torch.optim.Adam(policy.model.parameters(), lr=1e-6)
    def unit():
        loss = score_loss(policy.model, reference, policy.tokenizer, groups, stage).loss
        optimizer.zero_grad(); loss.backward(); optimizer.step()
else:
    unit = play
unit()
start = time.perf_counter()
unit()
print(time.perf_counter() - start)
"""


def run_units(threads: int, phase: str, problems: int, processes: int) -> float:
    """Seconds until ``processes`` concurrent processes have each done one unit."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UNIT, str(threads), phase, str(problems)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    return max(float(p.communicate()[0].strip().splitlines()[-1]) for p in procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--problems", type=int, default=64)
    args = parser.parse_args()
    settings = {"1 process x 1 thread": (1, 1), "1 process x 2 threads": (2, 1), "2 processes x 1 thread": (1, 2)}
    for phase in ("sampling", "learner", "evaluation"):
        best = dict.fromkeys(settings, 0.0)
        for _ in range(args.repeats):
            for name, (threads, processes) in settings.items():
                seconds = run_units(threads, phase, args.problems, processes)
                best[name] = max(best[name], processes / seconds)  # units per second
        base = best["1 process x 2 threads"]
        cells = ", ".join(f"{name} {rate:.2f}/s ({rate / base:.2f}x)" for name, rate in best.items())
        print(f"{phase}: {cells}", flush=True)
    print(f"(units per second, best of {args.repeats}; ratios to 1 process x 2 threads, torch's default here)")


if __name__ == "__main__":
    main()
