"""What a score env's OpenEnv server and its clients exchange: the action, the observation and a typed client.

Any OpenEnv client drives the server, ``GenericEnvClient`` with plain dicts included::

    with GenericEnvClient(base_url="http://127.0.0.1:8000").sync() as env:
        result = env.reset(index=3)                      # result.observation["messages"]: the first prompt
        result = env.step({"response": "... Answer: 42"})  # result.reward, result.done

:class:`ScoreEnvClient` is the same with typed actions and observations.
"""

from __future__ import annotations

from typing import Any

from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field


class SelfCorrectionAction(Action):
    """One attempt: the model's response. Any other field is rejected (the server answers with an error)."""

    response: str = Field(..., description="The model's response to the conversation in the last observation")


class SelfCorrectionObservation(Observation):
    """The conversation so far, plus the trainer's view of the latest grade.

    Only ``messages`` is the model's input: it is identical after a right and a wrong attempt (the task's
    instruction, never the grader's verdict). ``grade`` and ``metrics`` are for the trainer's logs and must never be
    shown to the model. ``reward`` is the latest turn's binary reward (an attempt's, or a self-verdict's); ``done`` is
    True after the last turn.
    """

    messages: list[dict[str, str]] = Field(default_factory=list, description="The conversation the model answers")
    attempt: int = Field(0, description="Attempts made so far in this episode")
    max_attempts: int = Field(2, description="Attempts per episode")
    problem_id: str = Field("", description="The problem of this episode")
    grade: dict[str, Any] | None = Field(None, description="Trainer only: the latest turn's grade")
    metrics: dict[str, float] = Field(
        default_factory=dict,
        description="Trainer only, once done: the SCoRe metrics (acc@t1, ...) and the rewards by name (attempt_1, ...)",
    )


class ScoreEnvClient(EnvClient[SelfCorrectionAction, SelfCorrectionObservation, State]):
    """A typed OpenEnv client of a score env server (WebSocket; one session, one episode at a time)."""

    def _step_payload(self, action: SelfCorrectionAction) -> dict[str, Any]:
        return action.model_dump(exclude={"metadata"})

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[SelfCorrectionObservation]:
        observation = SelfCorrectionObservation(
            **payload.get("observation", {}), reward=payload.get("reward"), done=payload.get("done", False)
        )
        return StepResult(observation=observation, reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)
