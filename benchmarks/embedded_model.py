"""The embedded base model's profile under the benchmark's evaluation protocol (not a timed test).

    python benchmarks/embedded_model.py [model dir] [problems]

Prints, on the first ``problems`` test problems (200 by default): the greedy metrics (Acc@t1, Acc@t2, Δ, Δi→c, Δc→i,
edit ratio), the same averaged over 4 samples per problem at temperature 1, what attempt 2 does (copy, re-solve,
revise, careful re-check: by its opening and its text), the mean tokens per attempt, and the correction ceiling (the
share of wrong greedy first attempts right in at least one of 16 sampled second attempts after them).
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from functools import partial
from pathlib import Path

from score_env import envs  # noqa: F401  (registers score/Arithmetic-v0)
from score_env.assets import embedded_model_path
from score_env.benchmark.analyses import correction_ceiling, majority_at_2, pass_at_2
from score_env.config import PolicyConfig
from score_env.envs.arithmetic_corpus import CAREFUL, REVISE
from score_env.evaluation import evaluate_policy
from score_env.policies import SamplingParams
from score_env.records import Episode
from score_env.registry import EnvFactory

MAX_NEW_TOKENS = 128


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else str(embedded_model_path())
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    policy = PolicyConfig().load(model)
    env = EnvFactory("score/Arithmetic-v0", "test")
    problems = list(range(n))
    greedy = SamplingParams(0.0, 1.0, MAX_NEW_TOKENS)
    sampled = SamplingParams(1.0, 1.0, MAX_NEW_TOKENS)
    with tempfile.TemporaryDirectory() as tmp:
        g = evaluate_policy(policy, partial(env, 2), problems, sampling=greedy, seed=0, label="greedy")
        verify = EnvFactory("score/Arithmetic-v0", "test", stop="model_decides")
        v = evaluate_policy(policy, partial(verify, 2), problems, sampling=greedy, seed=0, label="verify", attempts=2)
        s = evaluate_policy(policy, partial(env, 2), problems[: n // 2], sampling=sampled, seed=1, samples=4)
        ceiling = correction_ceiling(
            policy, g.episodes, env, samples=16, sampling=sampled, seed=2, run_dir=Path(tmp) / "ceiling"
        )
    for label, evaluation in (("greedy", g), ("sampled (4 x T=1)", s)):
        e = evaluation.report.estimates
        print(
            f"{label:>18}: Acc@t1 {100 * e['acc@t1'].value:.1f}  Acc@t2 {100 * e['acc@t2'].value:.1f}  "
            f"Δ {100 * e['delta'].value:+.1f}  Δi→c {100 * e['delta_i_to_c'].value:.1f}  "
            f"Δc→i {100 * e['delta_c_to_i'].value:.1f}  edit ratio {e['edit_distance_ratio'].value:.3f}  "
            f"tokens t1/t2 {e['tokens@t1'].value:.0f}/{e['tokens@t2'].value:.0f}"
        )
        print(f"{'':>18}  attempt 2: {dict(Counter(behaviour(ep) for ep in evaluation.episodes))}")
        print(f"{'':>18}  reasons: {evaluation.report.reasons}")
    e = {name: f"{100 * estimate.value:.1f}" for name, estimate in v.report.estimates.items()}
    print(
        f"verify-then-revise (greedy): Acc@t1 {e['acc@t1']}  Acc@final {e['acc@final']}  attempts "
        f"{v.report.estimates['attempts'].value:.2f}  verdict accuracy {e.get('verdict_accuracy', '–')}  recall on "
        f"right {e.get('verdict_recall_right', '–')}  on wrong {e.get('verdict_recall_wrong', '–')}"
    )
    print(f"compute-matched (sampled first attempts): pass@2 {100 * pass_at_2(s.episodes):.1f}, "
          f"majority@2 {100 * majority_at_2(s.episodes):.1f}")  # fmt: skip
    print(f"correction ceiling: {100 * ceiling:.1f}% of wrong greedy first attempts right in 1 of 16 samples")


def behaviour(episode: Episode) -> str:
    first, second = episode.attempts[0].text, episode.attempts[1].text
    if second.startswith(CAREFUL):
        return "careful"
    if second.startswith(REVISE):
        return "revise"
    return "copy" if second == first else "re-solve"


if __name__ == "__main__":
    main()
