"""The rollout loop: all first attempts in one batched generation call, then all second attempts, and so on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import gymnasium as gym
import numpy as np

from score_env.policies import Policy, SamplingParams
from score_env.profile import phase
from score_env.records import Attempt, Completion, Episode, EpisodeGroup, Grade, GradeReason, to_conversation

# A batch in which more than this share of the attempts were graded `error` (the grader or the sandbox failed, not
# the model) stops the run: its numbers would say more about our infrastructure than about the model. The built-in
# graders grade `error` only for what no attempt can cause (envs/code/grading.py: fault attribution), so no model
# output can stop a run; a user's grader that raises on a response makes that response `error` (the task's fault).
MAX_ERROR_SHARE = 0.2


class GradingFailed(RuntimeError):
    """Too many attempts of a batch were graded ``error``: a failure of ours (grader, sandbox), not the model's."""


def collect_episodes(
    make_env: Callable[[], gym.Env],
    policy: Policy,
    problem_indices: Sequence[int],
    sampling: SamplingParams,
    *,
    samples_per_problem: int = 1,
    seed: int = 0,
    grading_threads: int = 8,
    first_attempt_policy: Policy | None = None,
) -> list[EpisodeGroup]:
    """Play ``samples_per_problem`` episodes of every problem and return them, one group per problem.

    A turn is an attempt or, in verify-then-revise (``stop="model_decides"``), a self-verdict (``info["turn"]``);
    episodes may end at different turns when the env's ``stop`` lets them.

    Each turn is one ``policy.generate`` call over every episode still running; the
    env grades each attempt (in ``grading_threads`` threads: graders that run code or worker processes wait on
    I/O, not on the GIL).

    Args:
        make_env: builds one env (each episode gets its own).
        policy: what answers.
        problem_indices: which problems of the env's split.
        sampling: sampling settings; ``n`` is ignored (one completion per episode and turn).
        samples_per_problem: k, the number of episodes per problem.
        seed: seeds the envs and, combined with the turn number, the sampler.
        grading_threads: how many attempts are graded at once.
        first_attempt_policy: if given, attempt 1 comes from it (SCoRe's optional mixing of base-model first
            attempts); those attempts are marked ``from_base`` and later turns come from ``policy``.
    """
    keys = [(index, sample) for index in problem_indices for sample in range(samples_per_problem)]
    envs = [make_env() for _ in keys]
    observations = [
        env.reset(seed=seed + i, options={"index": index})[0]
        for i, (env, (index, _)) in enumerate(zip(envs, keys, strict=True))
    ]
    problem_ids = [env.unwrapped.problem.id for env in envs]
    attempts: list[list[Attempt]] = [[] for _ in keys]
    verdicts: list[list[Attempt]] = [[] for _ in keys]
    running = list(range(len(keys)))
    turn = 0
    with ThreadPoolExecutor(max_workers=grading_threads) as pool:
        while running:
            turn += 1
            prompts = [to_conversation(observations[i]) for i in running]
            turn_seed = int(np.random.SeedSequence([seed, turn]).generate_state(1)[0])
            sampler = first_attempt_policy if (turn == 1 and first_attempt_policy is not None) else policy
            with phase("sampling"):
                completions = sampler.generate(prompts, replace(sampling, n=1, seed=turn_seed))
            texts = [c[0].text for c in completions]
            with phase("grading"):
                steps = list(pool.map(lambda i, text: envs[i].step(text), running, texts))
            still_running = []
            for i, prompt, (completion,), step in zip(running, prompts, completions, steps, strict=True):
                observation, reward, terminated, truncated, info = step
                from_base = sampler is not policy
                record = _attempt(prompt, completion, float(reward), Grade.from_info(info), from_base)
                (verdicts if info.get("turn") == "verdict" else attempts)[i].append(record)
                observations[i] = observation
                if not (terminated or truncated):
                    still_running.append(i)
            running = still_running
    for env in envs:
        env.close()
    episodes = [
        Episode(problem_id, index, sample, tuple(answers), tuple(judged))
        for problem_id, (index, sample), answers, judged in zip(problem_ids, keys, attempts, verdicts, strict=True)
    ]
    check_grading(episodes)
    k = samples_per_problem
    return [
        EpisodeGroup(episodes[i].problem_id, episodes[i].problem_index, tuple(episodes[i : i + k]))
        for i in range(0, len(episodes), k)
    ]


def _attempt(prompt, completion: Completion, reward: float, grade: Grade, from_base: bool) -> Attempt:
    return Attempt(
        prompt=prompt,
        text=completion.text,
        token_ids=completion.token_ids,
        logprobs=completion.logprobs,
        finish_reason=completion.finish_reason,
        reward=reward,
        grade=grade,
        from_base=from_base,
        prompt_ids=completion.prompt_ids,
    )


def check_grading(episodes: Sequence[Episode]) -> None:
    """Raise :class:`GradingFailed` when more than ``MAX_ERROR_SHARE`` of the attempts (and at least 3) are errors."""
    attempts = [a for e in episodes for a in e.attempts]
    errors = [a for a in attempts if a.grade.reason is GradeReason.ERROR]
    if len(errors) >= 3 and len(errors) > MAX_ERROR_SHARE * len(attempts):
        raise GradingFailed(
            f"{len(errors)} of {len(attempts)} attempts in one batch were graded 'error' (the grader or the sandbox "
            f"failed, not the model), e.g. {errors[0].grade.detail[:200]!r}; stopping: fix the grader or sandbox"
        )
