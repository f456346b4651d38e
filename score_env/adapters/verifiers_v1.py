"""A score env as a verifiers 0.4 taskset (its v1 stack; ``pip install 'score-env[verifiers]'``).

verifiers 0.4 loads a taskset by the name of the installed package that exports it, so score-env's is the top-level
package ``score_env_verifiers`` (this module is its body)::

    config = vf.resolve_env_config({"taskset": {"id": "score_env_verifiers", "env": "math", "split": "train"}})
    env = vf.load_environment(config)          # a ScoreEnv; prime-rl: [env.taskset] id = "score_env_verifiers"

Three pieces, as verifiers 0.4 composes an environment:

- :class:`ScoreTaskset`: one task per problem of the split (``TaskData.id`` its problem id, the prompt its first
  prompt); :class:`ScoreTasksetConfig` chooses the env (``--env.taskset.env math``, ``split``, ``max_attempts``,
  ``stop``, ``env_kwargs``, ``num_problems``, ``reward_weights``).
- :class:`ScoreEnv`: one episode of the core env per task. It plays the user side of the agent's interaction, as
  verifiers' own TextArena env does: each reply is graded by the core env, and what the model sees next is exactly
  what the core env shows (the task's instruction, identical whether the attempt was right or wrong), until the
  core env's episode ends.
- :class:`ScoreReplyHarness`: the agent's default program, one chat completion per turn through verifiers'
  interception endpoint, run in-process (no tools, nothing to install; verifiers' ``null`` harness works too where
  ``uv`` can install its chat program).

Rewards: verifiers 0.4 takes one number per rollout, the weighted sum of a trace's named rewards. Each is one of
:func:`~score_env.adapters.episode.reward_components`: ``attempt_1`` ... ``attempt_T`` and ``verdicts``, weight 1
each unless ``reward_weights`` says otherwise, so the rollout's reward is the sum of its turns' rewards, never the
last attempt's alone. The SCoRe metrics are the trace's metrics, each turn's grade is in ``trace.info["grades"]``.
An attempt graded ``error`` raises :class:`~score_env.adapters.episode.GradingError` from ``run``: verifiers records
the episode as failed (``episode.errors``, ``ok`` False), never as a reward of 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, Literal

import openai
import verifiers.v1 as vf
from pydantic import Field, PositiveInt, model_validator
from verifiers.v1.dialects.chat import message_to_wire
from verifiers.v1.types import content_text

from score_env.adapters.episode import (
    ChatMessage,
    EnvChoice,
    EpisodeSession,
    episode_metrics,
    problem_prompts,
    reward_components,
    reward_names,
)

_MESSAGE_TYPES = {"system": vf.SystemMessage, "user": vf.UserMessage, "assistant": vf.AssistantMessage}


class ScoreTasksetConfig(vf.TasksetConfig):
    """Which score env the taskset holds (``--env.taskset.<field>``, or ``[env.taskset]`` in a TOML config)."""

    env: str = "arithmetic"
    """Env id (``score/MATH-v0``) or short name (``math``), as ``score-env envs`` lists them."""
    split: str = "train"
    max_attempts: PositiveInt = 2
    stop: Literal["fixed", "model_decides"] = "fixed"
    """``model_decides``: verify-then-revise, a self-verdict after each attempt but the last."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """The task's own arguments (``digits``, ``subjects``, ...)."""
    num_problems: PositiveInt | None = None
    """Only the first problems of the split."""
    reward_weights: dict[str, float] = Field(default_factory=dict)
    """Weights of the rewards by name (``attempt_1`` ... ``attempt_T``, ``verdicts``); 1 where not given."""

    @model_validator(mode="after")
    def _known_env_and_rewards(self) -> ScoreTasksetConfig:
        self.choice().spec()  # an unknown env, split or stop fails here, with the allowed names
        names = reward_names(self.max_attempts)
        unknown = sorted(set(self.reward_weights) - set(names))
        if unknown:
            raise ValueError(
                f"reward_weights names {unknown}, not rewards of this env; its rewards: {', '.join(names)}"
            )
        return self

    def choice(self) -> EnvChoice:
        return EnvChoice(self.env, self.split, self.max_attempts, dict(self.env_kwargs), self.stop)

    def weights(self) -> dict[str, float]:
        return {name: self.reward_weights.get(name, 1.0) for name in reward_names(self.max_attempts)}


class ScoreData(vf.TaskData):
    """One problem: ``id`` is its problem id, ``prompt`` its first prompt, ``index`` its place in the split."""

    index: int


class ScoreTask(vf.Task[ScoreData, vf.State, vf.TaskConfig]):
    """A problem of a score env. Scored by :class:`ScoreEnv`, which plays the episode, not by hooks of its own."""

    @property
    def key(self) -> str:
        return str(self.data.id)  # the problem id: durable across runs, unlike the positional idx


class ScoreTaskset(vf.Taskset[ScoreTask, ScoreTasksetConfig]):
    """Every problem of the chosen split (or its first ``num_problems``), in order."""

    def load(self) -> Iterator[ScoreTask]:
        count = self.config.num_problems
        for problem in problem_prompts(self.config.choice(), None if count is None else range(count)):
            prompt = [_MESSAGE_TYPES[m["role"]](content=m["content"]) for m in problem.prompt]
            yield ScoreTask(ScoreData(id=problem.problem_id, index=problem.index, prompt=prompt), self.config.task)


class ScoreEnvConfig(vf.EnvConfig):
    """The one ``agent`` seat, on a local runtime by default: its harness makes one model call per turn in-process,
    so there is nothing to run in a sandbox (``--env.agent.runtime.type`` chooses another). Without verifiers'
    network notice, which would add a line about the runtime's network to the prompt: the model sees exactly the
    core env's messages."""

    agent: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig(), network_notice=False)


class ScoreEnv(vf.Env[ScoreEnvConfig]):
    """One episode of the core env per task, the agent answering each turn (see the module's docstring)."""

    async def run(self, task: ScoreTask, agents: vf.Agents) -> None:
        config = self.taskset.config
        session, grades = EpisodeSession(config.choice()), []
        try:
            first = await asyncio.to_thread(session.reset, index=task.data.index)
            if [_as_dict(m) for m in task.data.prompt or []] != list(first):
                raise ValueError(
                    f"the task's prompt is not the first prompt of problem {task.data.index} of {config.env} "
                    f"({config.split}): use this taskset's own tasks"
                )
            async with agents.agent.interaction(task) as interaction:
                segment = await interaction.turn()  # the task's prompt opens the exchange
                while not segment.terminated:
                    result = await asyncio.to_thread(session.step, _reply_text(segment))
                    grades.append(result.info())
                    if result.done:
                        break
                    segment = await interaction.turn(list(map(_as_message, result.new_messages)))
            _record(interaction.trace, session, grades, config)
        finally:
            session.close()


def _record(trace: vf.Trace, session: EpisodeSession, grades: list[dict[str, Any]], config: ScoreTasksetConfig) -> None:
    """The episode's rewards by name, SCoRe metrics and grades on its trace. A trace that failed (a model or harness
    error) carries its error and no reward; one that a limit ended early (``max_turns``, tokens) is paid for the
    turns it made (0 for attempts not made) and says so in ``info["episode_complete"]``."""
    trace.info["grades"] = grades  # each turn's, with its "turn" (attempt or verdict): diagnostics, never a reward
    trace.info["episode_complete"] = session.last is not None and session.last.done
    if trace.has_error:
        return
    weights = config.weights()
    for name, value in reward_components(session.grades, session.verdicts, config.max_attempts).items():
        trace.record_reward(name, value, weights[name])
    trace.record_metrics(episode_metrics(session.grades, config.max_attempts))


def _reply_text(segment: vf.Segment) -> str:
    """The model's response: the segment's last assistant message, exactly as sampled (``last_reply`` strips it)."""
    replies = [m for m in segment.messages if isinstance(m, vf.AssistantMessage)]
    if not replies:
        raise TypeError(f"expected the model's response as an assistant message, got the segment {segment!r}")
    return content_text(replies[-1].content)


def _as_message(message: ChatMessage) -> vf.Message:
    return _MESSAGE_TYPES[message["role"]](content=message["content"])


def _as_dict(message: vf.Message) -> ChatMessage:
    return {"role": message.role, "content": content_text(message.content)}


class ScoreReplyHarnessConfig(vf.HarnessConfig):
    """No knobs: one reply per turn."""


class ScoreReplyHarness(vf.Harness[ScoreReplyHarnessConfig]):
    """One chat completion per turn, made in-process through the interception endpoint (which records it on the
    trace and applies the run's model and sampling), as verifiers' ``Harness.launch`` allows. A later turn is the
    same call on the whole conversation so far (``Harness.resume``'s default)."""

    APPENDS_SYSTEM_PROMPT = True  # a task's system message stays a system message
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(
        self,
        ctx: vf.ModelContext,
        trace: vf.Trace,
        runtime: vf.Runtime,
        endpoint: str,
        secret: str,
        mcp_urls: dict[str, str],
        data: vf.TaskData,
    ) -> vf.ProgramResult:
        system, prompt = self.resolve_prompt(data)
        messages = [{"role": "system", "content": system}] if system else []
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages += [message_to_wire(m) for m in prompt or []]
        # No timeout of its own, as verifiers' chat program: the agent's rollout timeout bounds the turn.
        client = openai.AsyncOpenAI(base_url=endpoint, api_key=secret, timeout=None)
        try:
            await client.chat.completions.create(model=ctx.model, messages=messages)
        finally:
            await client.close()
        return vf.ProgramResult(exit_code=0, stdout="", stderr="")
