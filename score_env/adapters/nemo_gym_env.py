"""Every score env as a NeMo Gym resources server (``pip install 'score-env[nemo-gym]'``; NeMo Gym needs Python 3.12+).

NeMo Gym hosts Gymnasium-style envs behind ``GymnasiumServer`` (``resources_servers.gymnasium``), played by its own
``gymnasium_agent``: per rollout the agent posts the dataset row to ``/reset``, then after each model response the
row and the response to ``/step``, which answers the 5-tuple; it appends a non-empty observation to the conversation
as a user message, stops at ``terminated`` (or ``truncated``, or after its ``max_steps``), and sums the steps'
rewards into the rollout's one ``reward``. Its ``/aggregate_metrics`` asks this server for the metrics of a run.

In a NeMo Gym project, ``resources_servers/score_math/app.py`` (``requirements.txt``: ``score-env[nemo-gym]``)::

    from score_env.adapters.nemo_gym_env import ScoreGymnasiumServer

    if __name__ == "__main__":
        ScoreGymnasiumServer.run_webserver()

with ``env``, ``split``, ``max_attempts``, ``stop`` (and ``env_kwargs``) beside ``entrypoint`` in the server's YAML
block, a ``gymnasium_agent`` whose ``max_steps`` is at least the episode's turns (``max_attempts``; with
``stop: model_decides`` ``2 * max_attempts - 1``), and the rows of :func:`nemo_gym_rows` as its JSONL dataset. A
task of your own: import the module that registers it in ``app.py``, before ``run_webserver``. Feedback is intrinsic,
as in every adapter (the model is never told whether it was right).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from statistics import fmean
from typing import Any

from fastapi import FastAPI
from nemo_gym.base_resources_server import BaseResourcesServerConfig
from nemo_gym.config_types import BaseServerConfig
from nemo_gym.openai_utils import NeMoGymResponse
from nemo_gym.server_utils import DEFAULT_HEAD_SERVER_PORT, ServerClient
from omegaconf import OmegaConf
from pydantic import Field, PrivateAttr, model_validator
from resources_servers.gymnasium import GymnasiumServer, extract_text

from score_env.adapters.episode import EnvChoice, EpisodeSession, problem_prompts
from score_env.env import Stop

# The per-episode metrics and rewards by name (EpisodeSession.metrics) in NeMo Gym's aggregate: score/acc@t1, ...,
# score/delta_c_to_i, score/attempt_1, ..., score/verdicts: their means over the run's rollouts.
METRICS_PREFIX = "score/"


class ScoreGymnasiumConfig(BaseResourcesServerConfig):
    """The server's YAML block: NeMo Gym's own keys (``entrypoint``, ``domain``, ``host``, ``port``) and which score
    env to serve. An unknown env, split or stop fails when the server starts, naming the allowed ones."""

    env: str = Field(description="an env id (score/MATH-v0) or short name (math), as `score-env envs` lists them")
    split: str = Field("train", description="the split whose problems the dataset's rows index")
    max_attempts: int = Field(2, description="attempts per episode (the paper's 2)")
    stop: Stop = Field("fixed", description="'fixed', or 'model_decides': a self-verdict between attempts")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="the task's own arguments (digits=3, ...)")

    @model_validator(mode="after")
    def _known_env(self) -> ScoreGymnasiumConfig:
        self.choice().spec()
        return self

    def choice(self) -> EnvChoice:
        return EnvChoice(self.env, self.split, self.max_attempts, dict(self.env_kwargs), self.stop)


class ScoreGymnasiumServer(GymnasiumServer):
    """A score env through NeMo Gym's ``GymnasiumServer``: one rollout of ``gymnasium_agent`` is one episode.

    ## Reset
    ``/reset`` takes a row of :func:`nemo_gym_rows` and starts the episode on the problem its ``index`` names,
    checking the row's ``problem_id`` (a row written for another env or split fails loudly). It answers no
    observation, so the model's first input is the row's ``responses_create_params.input``: the problem's first
    prompt, system message included.

    ## Action Space
    The model's ``NeMoGymResponse``; its text (NeMo Gym's ``extract_text``: the output messages' text, reasoning
    left out) is the attempt, or with ``stop="model_decides"`` a self-verdict.

    ## Observation Space
    ``str``, the next user message: after an attempt that is not the last, the task's correction instruction, the
    same text whether the attempt was right or wrong (with ``stop="model_decides"`` the verification instruction
    after an attempt, the correction instruction after a verdict "wrong"). ``None`` after the last turn.

    ## Rewards
    Each step's own binary reward, NeMo Gym's per-step reward: an attempt's (1.0 right, else 0.0) and a self-verdict's
    (1.0 when it judged its attempt rightly). The agent sums them into the rollout's ``reward``: the episode's return,
    never the last attempt's alone, so an attempt 1 wrong on purpose never pays more than one right twice.

    ## Episode End
    ``terminated=True`` after attempt ``max_attempts``; earlier only with ``stop="model_decides"``, when the model's
    own verdict says "correct". ``truncated`` is always False (the agent sets it when its ``max_steps`` run out).

    ## Info
    Every step: the grade (``correct``, ``reason``, ``extracted``, ``detail``), ``turn`` (``attempt`` or
    ``verdict``), ``attempt`` and ``problem_id``. The last step, which the agent returns as the rollout's ``info``,
    also ``metrics``: the episode's SCoRe metrics (``acc@t1``, ..., ``delta_c_to_i``) and its rewards by name
    (``attempt_1``, ``attempt_2``, ``verdicts``), which add up to the rollout's ``reward``. ``/aggregate_metrics``
    adds their means over the rollouts, the paper's numbers, as ``score/<name>`` (and in ``key_metrics``).

    ## Errors
    An attempt graded ``error`` (the grader or the sandbox failed) raises
    :class:`~score_env.adapters.episode.GradingError` from ``/step``: an error response, so the agent's ``/run``
    fails and the rollout with it, never a reward of 0. So do a ``/step`` without an episode and a bad row.

    ## Arguments
    :class:`ScoreGymnasiumConfig`, from the YAML block (``run_webserver``) or :meth:`for_env`.
    """

    config: ScoreGymnasiumConfig
    _idle: list[EpisodeSession] = PrivateAttr(default_factory=list)  # episodes' envs between rollouts, reused

    @classmethod
    def for_env(
        cls,
        env: str,
        split: str = "train",
        max_attempts: int = 2,
        stop: Stop = "fixed",
        env_kwargs: dict[str, Any] | None = None,
        name: str = "score_env",
    ) -> ScoreGymnasiumServer:
        """The server without NeMo Gym's launcher (``run_webserver`` builds it from the YAML block), e.g. to mount
        ``setup_webserver()`` in your own ASGI server or to test it."""
        config = ScoreGymnasiumConfig(
            host="127.0.0.1",
            port=0,
            entrypoint="app.py",
            name=name,
            env=env,
            split=split,
            max_attempts=max_attempts,
            stop=stop,
            env_kwargs=dict(env_kwargs or {}),
        )
        # This server calls no other server: a client of an empty NeMo Gym config.
        head = BaseServerConfig(host="127.0.0.1", port=DEFAULT_HEAD_SERVER_PORT)
        return cls(
            config=config, server_client=ServerClient(head_server_config=head, global_config_dict=OmegaConf.create({}))
        )

    def setup_webserver(self) -> FastAPI:
        """NeMo Gym's app (``/reset``, ``/step``, ``/aggregate_metrics``); the episodes' envs close when it stops."""
        app = super().setup_webserver()
        serve = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
            try:
                async with serve(app) as state:
                    yield state
            finally:
                self.close()

        app.router.lifespan_context = lifespan
        return app

    async def reset(self, metadata: dict, session_id: str | None = None) -> tuple[str | None, dict]:
        index = _row_index(metadata)
        await self.close_session(session_id)  # an episode this session left unfinished
        session = self._idle.pop() if self._idle else await asyncio.to_thread(EpisodeSession, self.config.choice())
        try:
            await asyncio.to_thread(session.reset, index=index)
            _check_row(metadata, session, self.config)
        except Exception:
            self._idle.append(session)  # whole again at its next reset
            raise
        self.session_state[session_id] = session
        return None, {"problem_id": session.problem_id, "attempt": 0}

    async def step(
        self, action: NeMoGymResponse, metadata: dict, session_id: str | None = None
    ) -> tuple[str | None, float, bool, bool, dict]:
        session = self.session_state.get(session_id)
        if session is None:
            raise RuntimeError(
                "/step without an episode: post the row to /reset first (NeMo Gym's gymnasium_agent does, once per "
                "rollout); an episode also ends at its last turn (terminated) and at a grading error"
            )
        try:
            # Off the event loop: grading may run a program in a sandbox while other rollouts step.
            result = await asyncio.to_thread(session.step, extract_text(action))
        except Exception:
            await self.close_session(session_id)  # a failed episode takes no more steps
            raise
        info = result.info()
        if result.done:
            info["metrics"] = session.metrics()
        observation = None if result.done else "\n\n".join(m["content"] for m in result.new_messages)
        return observation, result.reward, result.done, False, info

    async def close_session(self, session_id: str | None) -> None:
        """The episode is over (NeMo Gym calls this after a terminated step): its env goes back to the pool."""
        session = self.session_state.pop(session_id, None)
        if session is not None:
            self._idle.append(session)

    def compute_metrics(self, tasks: list[list[dict[str, Any]]]) -> dict[str, Any]:
        """NeMo Gym's hook for a run's metrics (``tasks[i]``: the rollouts of row i, each with the agent's ``info``,
        the last step's): the mean of every ``info["metrics"]`` value over the rollouts, as ``score/<name>``."""
        finals = [(rollout.get("info") or {}).get("metrics") for rollouts in tasks for rollout in rollouts]
        if missing := sum(not metrics for metrics in finals):
            raise ValueError(
                f"{missing} of {len(finals)} rollouts have no episode metrics: they ended before their "
                f"last turn. Give the gymnasium_agent max_steps >= {self.config.choice().max_turns} (the episode's "
                "turns), and aggregate the rollouts of this server only"
            )
        names = dict.fromkeys(name for metrics in finals for name in metrics)
        return {METRICS_PREFIX + name: fmean(m[name] for m in finals) for name in names}

    def get_key_metrics(self, agent_metrics: dict[str, Any]) -> dict[str, Any]:
        """The headline numbers: the mean rollout reward and every ``score/`` metric."""
        return {k: v for k, v in agent_metrics.items() if k == "mean/reward" or k.startswith(METRICS_PREFIX)}

    def close(self) -> None:
        """Close every episode's env (each core env closes its task)."""
        sessions = [*self._idle, *self.session_state.values()]
        self._idle.clear()
        self.session_state.clear()
        for session in sessions:
            session.close()


def nemo_gym_rows(
    env: str,
    split: str = "train",
    indices: Sequence[int] | None = None,
    agent: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The rows of a NeMo Gym JSONL dataset for ``env`` (every problem of the split by default): the problem's first
    prompt as ``responses_create_params.input``, its ``index`` (the problem ``/reset`` plays) and ``problem_id``
    (checked there), and with ``agent`` (your ``gymnasium_agent`` instance's name) the ``agent_ref`` that routes it."""
    rows = [
        {
            "responses_create_params": {"input": [dict(m) for m in p.prompt]},
            "index": p.index,
            "problem_id": p.problem_id,
        }
        for p in problem_prompts(EnvChoice(env, split, env_kwargs=dict(env_kwargs or {})), indices)
    ]
    if agent is not None:
        for row in rows:
            row["agent_ref"] = {"type": "responses_api_agents", "name": agent}
    return rows


def _row_index(metadata: dict) -> int:
    index = metadata.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError(
            f"a row names its problem by an int 'index', got {index!r} (the row's fields: "
            f"{', '.join(sorted(metadata))}): write the dataset with score_env.adapters.nemo_gym_env.nemo_gym_rows"
        )
    return index


def _check_row(metadata: dict, session: EpisodeSession, config: ScoreGymnasiumConfig) -> None:
    said = metadata.get("problem_id", session.problem_id)
    if said != session.problem_id:
        raise ValueError(
            f"the row's index {metadata['index']} is problem {session.problem_id!r} of {config.env} "
            f"(split {config.split}), but the row says {said!r}: the dataset was written for another env or split; "
            "write it again with nemo_gym_rows"
        )
