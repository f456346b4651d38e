"""One SCoRe Stage II update against one TRL ``GRPOTrainer`` step: same model, batch, k, completion length, CPU.

    pip install trl && python benchmarks/speed/train_step.py [--steps 3]

Ours: ``collect_episodes`` (P problems x k samples, two attempts each, graded) + ``score_loss`` (policy and reference
forwards) + Adam; and the same with one attempt (the single-turn ablation), which does the work of a GRPO step.
TRL: one ``GRPOTrainer`` step (k generations per prompt, one attempt, reward, loss with a KL to its reference model,
Adam). Note that a SCoRe episode generates *two* attempts, so ours samples twice as many tokens
for the same P, k and completion length. Both run on this machine's CPU threads, in this process, best of
``--steps`` timed steps after a warm-up step.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gymnasium as gym
import torch

from score_env import envs  # noqa: F401  (registers score/Arithmetic-v0)
from score_env.agents.score import stages_for
from score_env.config import ScoreAgentConfig
from score_env.envs.arithmetic import FIRST_PROMPT, grade_answer, make_task
from score_env.learner.reference import FrozenCopy
from score_env.learner.rl import score_loss
from score_env.policies import SamplingParams
from score_env.policies.factory import load_policy
from score_env.records import Problem
from score_env.rollout import collect_episodes
from score_env.tiny_model import EMBEDDED_SIZE, save_tiny_model

PROBLEMS, K, COMPLETION = 8, 4, 32


def build(out: Path) -> Path:
    problems = make_task("train").problems[:2000]
    corpus = [FIRST_PROMPT.format(expression=p.question) + f" Answer: {p.reference}" for p in problems]
    return save_tiny_model(out, corpus, hidden_size=EMBEDDED_SIZE["hidden_size"], layers=EMBEDDED_SIZE["layers"])


def time_score(model_dir: Path, steps: int, multi_turn: bool = True) -> float:
    policy = load_policy(str(model_dir))
    policy.model.train()
    reference = FrozenCopy(policy.model)
    optimizer = torch.optim.Adam(policy.model.parameters(), lr=1e-5)
    stage = stages_for(ScoreAgentConfig(stage1_steps=0, stage2_steps=1, multi_turn=multi_turn))[0]
    n = len(make_task("train").problems)
    best = float("inf")
    for step in range(steps + 1):
        start = time.perf_counter()
        indices = [(step * PROBLEMS + i) % n for i in range(PROBLEMS)]

        def make_env() -> gym.Env:
            return gym.make("score/Arithmetic-v0", split="train", max_attempts=stage.attempts)

        episodes = collect_episodes(
            make_env,
            policy,
            indices,
            SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=COMPLETION),
            samples_per_problem=K,
            seed=step,
        )
        result = score_loss(policy.model, reference, policy.tokenizer, episodes, stage)
        optimizer.zero_grad()
        result.loss.backward()
        optimizer.step()
        if step:  # the first step warms up
            best = min(best, time.perf_counter() - start)
    return best


def time_trl(model_dir: Path, steps: int) -> float:
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    problems = make_task("train").problems[: PROBLEMS * (steps + 1)]
    dataset = Dataset.from_dict(
        {
            "prompt": [[{"role": "user", "content": FIRST_PROMPT.format(expression=p.question)}] for p in problems],
            "reference": [p.reference for p in problems],
        }
    )

    def reward(completions, reference, **_):
        return [
            grade_answer(Problem("x", "", ref), c[0]["content"]).reward
            for c, ref in zip(completions, reference, strict=True)
        ]

    class Timer(TrainerCallback):
        durations: list[float] = []  # noqa: RUF012

        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.durations.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            output_dir=out,
            per_device_train_batch_size=PROBLEMS * K,
            num_generations=K,
            gradient_accumulation_steps=1,
            max_completion_length=COMPLETION,
            max_steps=steps + 1,
            learning_rate=1e-5,
            beta=0.01,
            temperature=1.0,
            use_vllm=False,
            use_cpu=True,
            bf16=False,
            fp16=False,
            report_to="none",
            save_strategy="no",
            eval_strategy="no",
            dataloader_num_workers=0,
            seed=0,
            disable_tqdm=True,
            logging_steps=1000,
        )
        config.gradient_checkpointing = False  # GRPOConfig turns it on by default; it only costs time here
        timer = Timer()
        trainer = GRPOTrainer(
            model=str(model_dir),
            reward_funcs=reward,
            args=config,
            train_dataset=dataset,
            processing_class=AutoTokenizer.from_pretrained(model_dir),
            callbacks=[timer],
        )
        trainer.train()
    return min(timer.durations[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build(Path(tmp) / "model")
        ours = time_score(model_dir, args.steps)
        single = time_score(model_dir, args.steps, multi_turn=False)
        theirs = time_trl(model_dir, args.steps)
    print(f"P={PROBLEMS} problems x k={K}, completions up to {COMPLETION} tokens, {torch.get_num_threads()} threads")
    print(f"SCoRe Stage II update (2 attempts/episode): {ours:.2f} s")
    print(f"TRL GRPOTrainer step (1 attempt/episode):   {theirs:.2f} s")
    print(f"single-turn update with our learner (the same work as GRPO): {single:.2f} s")
    print(
        f"ratio TRL / ours: {theirs / ours:.2f}x for the SCoRe update (it samples two attempts per episode), "
        f"{theirs / single:.2f}x for the single-turn update (above 1 = ours faster)"
    )


if __name__ == "__main__":
    main()
