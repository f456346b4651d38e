"""One SCoRe Stage II update against one TRL ``GRPOTrainer`` step: same model, batch, k, completion length, CPU.

    pip install trl && python benchmarks/speed/train_step.py [--steps 3]

Ours: ``collect_episodes`` (P problems x k samples, two attempts each, graded) + ``score_loss`` (policy and reference
forwards) + Adam; and the same with one attempt (the single-turn ablation), which does the work of a GRPO step.
TRL: one ``GRPOTrainer`` step (k generations per prompt, one attempt, reward, loss with a KL to its reference model,
Adam). Note that a SCoRe episode generates *two* attempts, so ours samples twice as many tokens
for the same P, k and completion length. Both run on this machine's CPU threads, in this process, best of
``--steps`` timed steps after a warm-up step.

Two rates per step: generated tokens/s, and tokens through the model/s: every token the step runs the model on,
counted once where it is prefilled or sampled and once in the learner's rows (prompt + completion; SCoRe's row is
attempt 2's whole conversation, attempt 1 read off it). A SCoRe attempt 2 is sampled after the problem, attempt 1 and
the correction instruction (~140 tokens in the embedded model's arithmetic tokenizer), so per generated token it runs
the model on far more context than a one-attempt GRPO step; the second rate compares the work itself.
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
from score_env.agents.score import ScoreAgentConfig, stages_for
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


def time_score(model_dir: Path, steps: int, multi_turn: bool = True) -> tuple[float, float, float]:
    """Best step time (s), and the generated tokens and the tokens through the model per second of that step."""
    policy = load_policy(str(model_dir))
    policy.model.train()
    reference = FrozenCopy(policy.model)
    optimizer = torch.optim.Adam(policy.model.parameters(), lr=1e-5)
    stage = stages_for(ScoreAgentConfig(stage1_steps=0, stage2_steps=1, multi_turn=multi_turn))[0]
    n = len(make_task("train").problems)
    best, rate, through = float("inf"), 0.0, 0.0
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
        seconds = time.perf_counter() - start
        attempts = [a for g in episodes for e in g.episodes for a in e.attempts]
        tokens = sum(len(a.token_ids) for a in attempts)
        sampled = sum(len(a.prompt_ids) + len(a.token_ids) for a in attempts)
        learned = sum(
            len(e.attempts[-1].prompt_ids) + len(e.attempts[-1].token_ids) for g in episodes for e in g.episodes
        )
        if step and seconds < best:  # the first step warms up
            best, rate, through = seconds, tokens / seconds, (sampled + learned) / seconds
    return best, rate, through


def time_trl(model_dir: Path, steps: int) -> tuple[float, float, float]:
    """Best step time (s), and the generated tokens and the tokens through the model per second of that step (TRL's
    logged mean completion length; the prompts tokenised with the chat template as TRL does)."""
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
        lengths: list[float] = []  # noqa: RUF012

        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.durations.append(time.perf_counter() - self.start)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "completions/mean_length" in logs:
                self.lengths.append(logs["completions/mean_length"])

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
            logging_steps=1,
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
    best = min(range(1, len(timer.durations)), key=lambda i: timer.durations[i])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt_tokens = K * sum(
        len(tokenizer(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False))["input_ids"])
        for prompt in dataset["prompt"][best * PROBLEMS : (best + 1) * PROBLEMS]
    )
    generated = PROBLEMS * K * timer.lengths[best]
    seconds = timer.durations[best]
    return seconds, generated / seconds, 2 * (prompt_tokens + generated) / seconds  # sampled, then learned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build(Path(tmp) / "model")
        ours, ours_rate, ours_through = time_score(model_dir, args.steps)
        single, single_rate, single_through = time_score(model_dir, args.steps, multi_turn=False)
        theirs, theirs_rate, theirs_through = time_trl(model_dir, args.steps)
    print(f"P={PROBLEMS} problems x k={K}, completions up to {COMPLETION} tokens, {torch.get_num_threads()} threads")
    rows = (
        ("SCoRe Stage II update (2 attempts/episode)", ours, ours_rate, ours_through),
        ("TRL GRPOTrainer step (1 attempt/episode)", theirs, theirs_rate, theirs_through),
        ("single-turn update, our learner (GRPO's work)", single, single_rate, single_through),
    )
    for name, seconds, rate, through in rows:
        print(f"{name:<46} {seconds:5.2f} s, {rate:5.0f} generated tok/s, {through:6.0f} tok/s through the model")
    print(
        f"per step, TRL / ours: {theirs / ours:.2f}x SCoRe, {theirs / single:.2f}x single-turn; per generated token, "
        f"ours / TRL: {ours_rate / theirs_rate:.2f}x SCoRe, {single_rate / theirs_rate:.2f}x single-turn; per token "
        f"through the model: {ours_through / theirs_through:.2f}x SCoRe, {single_through / theirs_through:.2f}x "
        "single-turn (above 1 = ours faster)"
    )


if __name__ == "__main__":
    main()
