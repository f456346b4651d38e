"""The embedded base model's profile, against its target profile in README.md (not a timed test).

    python benchmarks/embedded_model.py [model dir] [problems]

On the first ``problems`` test problems (all 500 by default), 128 new tokens per attempt:
- greedy: Acc@t1, Acc@t2, Δ, Δi→c, Δc→i, the fix rate on its own wrong first attempts, what attempt 2 does (copy,
  re-solve, revise, careful, check: by its opening and text) and the share of attempts cut at the budget;
- sampled first attempts (16 per problem at T = 1, on the first 200): pass@1 and pass@8 (unbiased);
- the check, forced (``Let me check each step.`` written after the correction instruction, the model continuing):
  greedy, the share of wrong greedy first attempts it fixes (the greedy ceiling) and of right ones it breaks; at
  T = 1, how often it calls the earliest wrong step of a wrong first attempt wrong first (error located) and how often
  it calls any step of a right one wrong (false alarm);
- the sampled ceiling (wrong greedy first attempts right in at least one of 16 sampled second attempts), the sampled
  evaluation (4 x T = 1 on the first 100) and the self-verdict's recall on wrong first attempts (greedy).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from functools import partial
from math import comb
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from score_env import envs  # noqa: F401  (registers score/Arithmetic-v0)
from score_env.assets import embedded_model_path
from score_env.benchmark.analyses import correction_ceiling
from score_env.config import PolicyConfig
from score_env.envs.arithmetic import CORRECTION_INSTRUCTION, evaluate, grade_answer
from score_env.envs.arithmetic_corpus import CAREFUL, CHECK, REVISE
from score_env.envs.arithmetic_steps import exact
from score_env.evaluation import evaluate_policy
from score_env.policies import SamplingParams
from score_env.policies.chat import render_prompt
from score_env.records import Episode, Message, Problem
from score_env.registry import EnvFactory

MAX_NEW_TOKENS = 128
STEP = re.compile(r"(-?\d+) ([+*-]) (-?\d+) = (-?\d+)")
JUDGED = re.compile(r"(-?\d+) ([+*-]) (-?\d+) = (-?\d+)\? (.*)")  # a judged step: "<step>? <judgement>"


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else str(embedded_model_path())
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    policy = PolicyConfig().load(model)
    env = EnvFactory("score/Arithmetic-v0", "test").open()  # arithmetic holds nothing to close
    problems = list(range(n))
    greedy = SamplingParams(0.0, 1.0, MAX_NEW_TOKENS)
    sampled = SamplingParams(1.0, 1.0, MAX_NEW_TOKENS)
    g = evaluate_policy(policy, partial(env, 2), problems, sampling=greedy, seed=0, label="greedy")
    firsts = evaluate_policy(policy, partial(env, 1), problems[:200], sampling=sampled, seed=3, samples=16).episodes
    s = evaluate_policy(policy, partial(env, 2), problems[: n // 5], sampling=sampled, seed=1, samples=4)
    verify = replace(env, stop="model_decides")
    v = evaluate_policy(policy, partial(verify, 2), problems, sampling=greedy, seed=0, label="verify", attempts=2)
    with tempfile.TemporaryDirectory() as tmp:
        ceiling = correction_ceiling(
            policy, g.episodes, env, samples=16, sampling=sampled, seed=2, run_dir=Path(tmp) / "ceiling"
        )
    e = g.report.estimates
    print(
        f"greedy ({n} problems): Acc@t1 {100 * e['acc@t1'].value:.1f}  Acc@t2 {100 * e['acc@t2'].value:.1f}  "
        f"Δ {100 * e['delta'].value:+.1f}  Δi→c {100 * e['delta_i_to_c'].value:.1f}  "
        f"Δc→i {100 * e['delta_c_to_i'].value:.1f}  edit ratio {e['edit_distance_ratio'].value:.3f}  "
        f"tokens t1/t2 {e['tokens@t1'].value:.0f}/{e['tokens@t2'].value:.0f}"
    )
    wrong = 1 - e["acc@t1"].value
    print(f"  fix rate on its own wrong first attempts: {100 * e['delta_i_to_c'].value / wrong:.1f}%")
    print(f"  attempt 2: {dict(Counter(behaviour(ep) for ep in g.episodes))}")
    cut = [g.report.counts[f"cut_t{t}"] / g.report.episodes for t in (1, 2)]
    print(f"  cut at {MAX_NEW_TOKENS} tokens: t1 {100 * cut[0]:.2f}%, t2 {100 * cut[1]:.2f}%")
    print(f"sampled first attempts (16 x T=1, 200 problems): pass@1 {pass_at(firsts, 1):.1f}, "
          f"pass@8 {pass_at(firsts, 8):.1f}")  # fmt: skip
    forced_check(model, g.episodes)
    e = s.report.estimates
    print(f"sampled (4 x T=1, {n // 5} problems): Acc@t1 {100 * e['acc@t1'].value:.1f}  Acc@t2 "
          f"{100 * e['acc@t2'].value:.1f}  Δ {100 * e['delta'].value:+.1f}")  # fmt: skip
    print(f"sampled ceiling: {100 * ceiling:.1f}% of wrong greedy first attempts right in 1 of 16 samples")
    e = {name: f"{100 * estimate.value:.1f}" for name, estimate in v.report.estimates.items()}
    print(f"verify-then-revise (greedy): verdict recall on right {e.get('verdict_recall_right', '–')}, on wrong "
          f"{e.get('verdict_recall_wrong', '–')}")  # fmt: skip


def forced_check(model_dir: str, episodes: list[Episode]) -> None:
    """The check behaviour forced after each greedy first attempt: greedy (ceiling) and at T = 1 (detection)."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    opening = tokenizer(CHECK, add_special_tokens=False)["input_ids"]
    rows = []
    for ep in episodes:
        first = ep.attempts[0]
        conversation = (*first.prompt, Message("assistant", first.text), Message("user", CORRECTION_INSTRUCTION))
        rows.append(tokenizer(render_prompt(tokenizer, conversation), add_special_tokens=False)["input_ids"] + opening)
    for label, temperature in (("greedy", 0.0), ("T=1", 1.0)):
        texts = generate(model, tokenizer, rows, temperature, MAX_NEW_TOKENS - len(opening))
        fixed = broken = located = alarms = n_wrong = n_right = 0
        for ep, text in zip(episodes, texts, strict=True):
            first = ep.attempts[0]
            problem = first.prompt[-1].content.removeprefix("Compute ").split(".")[0]
            right_after = grade_answer(Problem("check", problem, str(evaluate(problem))), CHECK + text).correct
            flags = [step for step, wrong in judged_steps(CHECK + text) if wrong]
            if first.grade.correct:
                n_right += 1
                broken += not right_after
                alarms += bool(flags)
            elif not first.text.startswith(CAREFUL):  # quick steps only: a careful chain has no "a op b = r" steps
                n_wrong += 1
                fixed += right_after
                steps = [(int(a), op, int(b), int(r)) for a, op, b, r in STEP.findall(first.text)]
                errors = [st for st in steps if exact(st[0], st[1], st[2]) != st[3]]
                located += bool(flags and errors and flags[0] == errors[0])
        share = lambda count, total: 100 * count / max(total, 1)  # noqa: E731
        print(f"forced check, {label}: fixes {share(fixed, n_wrong):.1f}% of {n_wrong} wrong first attempts, "
              f"breaks {share(broken, n_right):.1f}% of {n_right} right; earliest error located "
              f"{share(located, n_wrong):.1f}%, right ones flagged {share(alarms, n_right):.1f}%")  # fmt: skip


def judged_steps(text: str) -> list[tuple[tuple[int, str, int, int], bool]]:
    """The steps a check judged, in order, each with whether it was called wrong (``? No: ...`` after a glance,
    ``..., no`` after a recomputation)."""
    found = []
    for sentence in text.split(". "):
        match = JUDGED.match(sentence.strip())
        if match:
            a, op, b, r, judgement = match.groups()
            wrong = judgement.startswith("No") or judgement.rstrip(".").endswith(", no")
            found.append(((int(a), op, int(b), int(r)), wrong))
    return found


def generate(model, tokenizer, rows: list[list[int]], temperature: float, max_new: int) -> list[str]:
    torch.manual_seed(0)
    texts = []
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    for start in range(0, len(rows), 64):
        batch = rows[start : start + 64]
        width = max(map(len, batch))
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in batch])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in batch])
        with torch.no_grad():
            out = model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=max_new, do_sample=temperature > 0,
                temperature=temperature or None, top_p=None, top_k=None, pad_token_id=pad,
            )  # fmt: skip
        texts += tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
    return texts


def pass_at(episodes: tuple[Episode, ...], k: int) -> float:
    by_problem: dict[int, list[bool]] = {}
    for ep in episodes:
        by_problem.setdefault(ep.problem_index, []).append(ep.attempts[0].grade.correct)
    values = [1 - comb(len(v) - sum(v), k) / comb(len(v), k) for v in by_problem.values()]
    return 100 * sum(values) / len(values)


def behaviour(episode: Episode) -> str:
    first, second = episode.attempts[0].text, episode.attempts[1].text
    for opening, name in ((CAREFUL, "careful"), (REVISE, "revise"), (CHECK, "check")):
        if second.startswith(opening):
            return name
    return "copy" if second == first else "re-solve"


if __name__ == "__main__":
    main()
