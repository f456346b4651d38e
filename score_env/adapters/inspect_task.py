"""Every score env as an Inspect task (``pip install 'score-env[inspect]'``), with the self-correction metrics::

    inspect eval score_env/adapters/inspect_task.py@score_env_task -T env=arithmetic \
        --model hf/score_env/assets/arithmetic-base

(the embedded model, offline). ``--model mockllm/model`` runs where tiktoken can download its encoding, which the
mock counts tokens with unless its outputs carry their usage (as ``tests/adapters/test_inspect_task.py`` gives them).

Inspect (inspect-ai) is an evaluation framework, not a trainer: this module gives its users Acc@t1, Acc@t2, Δ(t1,t2),
Δi→c and Δc→i with their own model providers (``--model openai/...``, ``vllm/...``, ``hf/...``) and its log viewer.

## Description
:func:`score_env_task` is an Inspect ``@task``: one sample per problem of a split, whose input is the problem's
first prompt. Its solver, :func:`self_correction`, plays the two attempts through the core env
(:class:`~score_env.adapters.episode.EpisodeSession`, intrinsic feedback): attempt 1 is the model's answer to the first
prompt; the core env grades it and appends the task's correction instruction, the same text whether the attempt was
right or wrong; attempt 2 is the model's answer to the whole conversation. Inspect's own ``generate`` makes every
attempt, so its model providers, generation config, limits and transcript apply unchanged.

## Scores
The grading is the env's: each attempt is graded by the task's grader as the core env steps on it (as in every
adapter), and the solver keeps the attempts in the sample's store. :func:`self_correction_scorer` turns them into a
:class:`~inspect_ai.scorer.Score` whose value is the episode's values (``acc@t1``, ``acc@t2``, ``delta``,
``delta_i_to_c``, ``delta_c_to_i``: :func:`~score_env.adapters.episode.episode_metrics`) and whose metadata has each
attempt's text, finish reason, reward and grade, for Inspect's log viewer.

## Metrics
:func:`self_correction_metric` rebuilds the episodes from the scores and reports
:func:`~score_env.metrics.self_correction_metrics`' estimates under the names ``score-env eval`` writes to
``metrics.json``. It reads every epoch's score (``scores="unreduced"``): ``--epochs k`` gives k episodes per problem,
as ``score-env eval``'s k samples do.

## Errors
An attempt graded ``error`` (the grader or the sandbox failed) raises
:class:`~score_env.adapters.episode.GradingError` in the solver: Inspect records the sample as an error (its
``--fail-on-error`` decides whether the eval goes on), never as a wrong answer. A sample that ends before its last
attempt (an Inspect message, token or time limit) is unscored, with the reason, and left out of the metrics.

## Arguments
``env`` (id or short name, as ``score-env envs`` lists them), ``split``, ``limit`` (the first problems only),
``max_attempts``, ``env_kwargs`` (the task's own arguments), ``imports`` (the user's modules that register tasks,
as ``import=`` does on score-env's command line: a module on ``PYTHONPATH`` or a ``.py`` file's absolute path, since
Inspect runs a task file from the file's folder; installed ``score_env.tasks`` entry points load either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, ModelOutput
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from score_env.adapters.episode import AttemptResult, EnvChoice, EpisodeSession, episode_metrics, problem_prompts
from score_env.adapters.episode import ChatMessage as ScoreMessage
from score_env.config.imports import import_modules
from score_env.metrics import self_correction_metrics
from score_env.records import Attempt, Episode, Grade

STORE_KEY = "score_env:attempts"  # the sample's store entry the solver writes and the scorer reads
SCORE_METRICS = ("delta", "delta_i_to_c", "delta_c_to_i")  # reported after acc@t1 ... acc@tT
_LENGTH_STOPS = ("max_tokens", "model_length")  # Inspect's stop reasons for an answer cut at a length limit
_MESSAGE_TYPES = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}


@task
def score_env_task(
    env: str = "arithmetic",
    split: str = "test",
    limit: int | None = None,
    max_attempts: int = 2,
    env_kwargs: Mapping[str, Any] | None = None,
    imports: str | Sequence[str] | None = None,
) -> Task:
    """A score env as an Inspect task: one sample per problem, played and scored as the module docstring says."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a number of problems >= 1 (or None: the whole split), got {limit}")
    import_modules([imports] if isinstance(imports, str) else list(imports or ()))
    choice = EnvChoice(env, split, max_attempts, dict(env_kwargs or {}))
    prompts = problem_prompts(choice)[:limit]
    dataset = [Sample(input=_inspect_messages(p.prompt), id=p.problem_id, metadata={"index": p.index}) for p in prompts]
    return Task(
        dataset=dataset,
        solver=self_correction(env, split, max_attempts, env_kwargs),
        scorer=self_correction_scorer(),
        name=f"score_env_{choice.spec().short_name}",
    )


@solver
def self_correction(
    env: str, split: str = "test", max_attempts: int = 2, env_kwargs: Mapping[str, Any] | None = None
) -> Solver:
    """Play a sample's episode through the core env: ``max_attempts`` generations, the correction instruction between
    them. Each attempt (text, finish reason, reward, grade) goes to the sample's store under :data:`STORE_KEY`."""
    choice = EnvChoice(env, split, max_attempts, dict(env_kwargs or {}))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        session = EpisodeSession(choice)
        try:
            first = await anyio.to_thread.run_sync(lambda: session.reset(index=int(state.metadata["index"])))
            if _score_messages(state.messages) != list(first):
                raise ValueError(
                    f"sample {state.sample_id!r} does not start with the first prompt of problem "
                    f"{state.metadata['index']} of {choice.env} ({choice.split}): run self_correction() first, on "
                    "score_env_task's own dataset"
                )
            attempts: list[dict[str, Any]] = []
            while True:
                state = await generate(state)
                # The grader may run a sandbox or a math-verify worker for seconds: off the event loop.
                result = await anyio.to_thread.run_sync(session.step, state.output.completion)
                attempts.append(_attempt_record(state.output, result))
                state.store.set(STORE_KEY, attempts)
                if result.done:
                    return state
                state.messages.extend(_inspect_messages(result.new_messages))
        finally:
            session.close()

    return solve


@metric(name="self_correction", scores="unreduced")
def self_correction_metric() -> Metric:
    """Acc@t1 ... Acc@tT, Δ, Δi→c and Δc→i of the scored episodes, by :func:`~score_env.metrics.
    self_correction_metrics` (every epoch's episode counts; a problem's epochs are its samples)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        if not scores:
            return {}  # nothing was scored: Inspect reports its own empty value
        episodes = [_episode(s.score, i) for i, s in enumerate(scores)]
        report = self_correction_metrics(episodes, n_bootstrap=0)
        names = [f"acc@t{t}" for t in range(1, report.attempts + 1)] + list(SCORE_METRICS)
        return {name: report.estimates[name].value for name in names}

    return compute


@scorer(metrics=[self_correction_metric()])
def self_correction_scorer() -> Scorer:
    """The episode the :func:`self_correction` solver played: its per-episode values, and each attempt's text and
    grade in the metadata. A sample cut before its last attempt is unscored."""

    async def score(state: TaskState, target: Target) -> Score:
        attempts: list[dict[str, Any]] | None = state.store.get(STORE_KEY)
        if attempts is None:
            raise ValueError(
                f"sample {state.sample_id!r} has no score-env attempts in its store ({STORE_KEY!r}): "
                "self_correction_scorer() scores what the self_correction() solver played; use that solver"
            )
        grades = [Grade.from_info(a["grade"]) for a in attempts]
        metadata = {"problem_id": str(state.sample_id), "attempts": attempts}
        explanation = " → ".join(f"t{i}: {_shown(g)}" for i, g in enumerate(grades, start=1))
        if not attempts[-1]["done"]:  # a limit of Inspect's stopped the episode: no measurement
            return Score.unscored(
                reason="episode_cut",
                explanation=f"the episode ended after attempt {len(attempts)} ({explanation}), before its last",
                metadata=metadata,
            )
        return Score(
            value=episode_metrics(grades), answer=attempts[-1]["text"], explanation=explanation, metadata=metadata
        )

    return score


def _attempt_record(output: ModelOutput, result: AttemptResult) -> dict[str, Any]:
    """One attempt as the store and the score's metadata keep it (JSON: Inspect writes both to its log)."""
    info = result.info()  # the grade, its text escaped where JSON could not carry it
    grade = {k: info[k] for k in ("correct", "reason", "extracted", "detail", "sandbox") if k in info}
    return {
        "attempt": result.attempt,
        "text": output.completion,
        "finish_reason": "length" if output.stop_reason in _LENGTH_STOPS else "stop",
        "reward": result.reward,
        "grade": grade,
        "done": result.done,
    }


def _episode(score: Score, sample: int) -> Episode:
    """The episode a score records, as much of it as the metrics read (no prompts, no tokens)."""
    metadata = score.metadata or {}
    if "attempts" not in metadata:
        raise ValueError("self_correction_metric() reads the scores of self_correction_scorer(); this one has none")
    attempts = tuple(
        Attempt((), a["text"], (), (), a["finish_reason"], a["reward"], Grade.from_info(a["grade"]))
        for a in metadata["attempts"]
    )
    return Episode(metadata["problem_id"], 0, sample, attempts)


def _inspect_messages(messages: Sequence[ScoreMessage]) -> list[ChatMessage]:
    return [_MESSAGE_TYPES[m["role"]](content=m["content"]) for m in messages]


def _score_messages(messages: Sequence[ChatMessage]) -> list[ScoreMessage]:
    return [{"role": m.role, "content": m.text} for m in messages]


def _shown(grade: Grade) -> str:
    return grade.reason.value if grade.extracted is None else f"{grade.reason.value} ({grade.extracted})"
