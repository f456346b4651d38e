"""A score env as an OpenEnv server (``pip install 'score-env[openenv]'``), started with one command::

    score-env serve env=math [split=train port=8000 host=127.0.0.1 max_attempts=2 stop=fixed max_sessions=64]

OpenEnv's ``create_app`` serves it over HTTP and WebSocket. An episode needs the WebSocket (``/ws``), which is what
every OpenEnv ``EnvClient`` uses: each connection is a session with its own env. OpenEnv's plain HTTP ``/reset`` and
``/step`` build a fresh env per request, so ``/step`` there answers with an error (no episode was reset).

A bad request is the client's mistake, answered with a 4xx and a JSON body in FastAPI's shape, which OpenEnv's own
validation errors use: ``{"detail": "<one line>"}``, and nothing in the server's log. A body that is not JSON, or
whose action has the wrong shape or types, is refused by OpenEnv (422, ``detail`` a list of pydantic's errors); a
``reset`` option or index that is not allowed is 422, a ``step`` without an episode 409, and a body over
:data:`MAX_BODY_BYTES` 413 (read no further). A 500 is a server bug, logged with its traceback.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import gymnasium as gym
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata, State

import score_env
from score_env.adapters.episode import EnvChoice, EpisodeSession
from score_env.adapters.openenv_config import ServeConfig
from score_env.adapters.openenv_protocol import SelfCorrectionAction, SelfCorrectionObservation
from score_env.text import escape_surrogates

RESET_OPTIONS = ("index",)  # reset's own options besides OpenEnv's seed and episode_id
# The largest request body over HTTP, and the largest WebSocket message (uvicorn's own default for the latter): one
# limit, so both transports take the same actions.
MAX_BODY_BYTES = 16 * 1024 * 1024


class RequestRejected(ValueError):
    """A client's mistake (a reset option or index not allowed, a step without an episode): over HTTP a 4xx whose
    ``detail`` is the message, over the WebSocket OpenEnv's error message; never logged as a server error."""

    def __init__(self, message: str, status_code: int = 422):
        super().__init__(message)
        self.status_code = status_code


class ScoreOpenEnv(Environment[SelfCorrectionAction, SelfCorrectionObservation, State]):
    """A score env through OpenEnv's server-side ``Environment``.

    ## Action Space
    :class:`~score_env.adapters.openenv_protocol.SelfCorrectionAction`: ``{"response": <the model's text>}``.

    ## Observation Space
    :class:`~score_env.adapters.openenv_protocol.SelfCorrectionObservation`: ``messages`` (the conversation the
    model answers next, as the core env observes it: after an attempt that is not the last it ends with the task's
    correction instruction, identical whether the attempt was right or wrong), ``attempt``, ``max_attempts``,
    ``problem_id``, and for the trainer only ``grade`` (with ``turn``: ``attempt`` or ``verdict``) and, once done,
    ``metrics``: the SCoRe metrics (``acc@t1``, ``acc@t2``, ...) and the rewards by name (``attempt_1``,
    ``attempt_2``, ``verdicts``, which add up to the episode's return).
    OpenEnv sends it as JSON through pydantic, which cannot encode a lone surrogate (a response sent as ``"\\ud800"``,
    a program's error quoted in a grade's ``detail``): each is sent as the six characters of its escape instead
    (:func:`score_env.text.escape_surrogates`, as ``AttemptResult.info`` does for the grade); every other character,
    controls included, goes as it is.

    ## Rewards
    Each step's own binary reward: an attempt's for being right, and with ``stop="model_decides"`` (verify-then-revise)
    a self-verdict's for judging its attempt rightly. Never the last attempt's alone.

    ## Episode End
    ``done=True`` after attempt ``max_attempts``; earlier only with ``stop="model_decides"``, when the model's own
    verdict says "correct".

    ## Errors
    Every failure raises, so the client gets OpenEnv's error response (``EnvClient`` raises) instead of a reward:
    an attempt graded ``error`` (:class:`~score_env.adapters.episode.GradingError`), and the client's mistakes as
    :class:`RequestRejected`: a step before ``reset`` or after the last attempt, an unknown ``reset`` option or
    problem index. A malformed action is rejected by OpenEnv before it gets here.

    ## Arguments
    ``reset(seed=None, episode_id=None, index=None)``: ``index`` picks a problem of the split, else ``seed`` draws one.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True  # each session builds its own instance and core env; nothing is shared

    def __init__(self, choice: EnvChoice):
        super().__init__()
        self.session = EpisodeSession(choice)
        self._state = State(episode_id=None, step_count=0)

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> SelfCorrectionObservation:
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise RequestRejected(
                f"unknown reset option(s) {unknown}; allowed: seed, episode_id, {', '.join(RESET_OPTIONS)}"
            )
        index, n = options.get("index"), self.session.num_problems
        if index is not None and (type(index) is not int or not 0 <= index < n):  # bool is an int to isinstance
            raise RequestRejected(f"index must be an int in [0, {n}) (a problem of the split), got {index!r}")
        self.session.reset(index=index, seed=seed)
        self._state = State(episode_id=episode_id or uuid4().hex, step_count=0, problem_id=self.session.problem_id)
        return self._observation(reward=None, done=False, grade=None)

    def step(
        self, action: SelfCorrectionAction, timeout_s: float | None = None, **kwargs: Any
    ) -> SelfCorrectionObservation:
        if not isinstance(action, SelfCorrectionAction):
            raise TypeError(f"expected a SelfCorrectionAction, got {type(action).__name__}")
        if self._state.episode_id is None:
            raise RequestRejected(
                "no episode to step: call reset first (plain HTTP /reset and /step each get a fresh env, so an "
                "episode needs the WebSocket /ws, which every OpenEnv EnvClient uses)",
                status_code=409,
            )
        try:
            result = self.session.step(action.response)
        except gym.error.ResetNeeded as exc:  # the episode is over
            raise RequestRejected(str(exc), status_code=409) from None
        self._state.step_count = result.attempt
        return self._observation(reward=result.reward, done=result.done, grade=result.info())

    @property
    def state(self) -> State:
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        spec = self.session.choice.spec()
        return EnvironmentMetadata(
            name=spec.env_id,
            description=f"{spec.description} (score-env self-correction)",
            version=score_env.__version__,
        )

    def close(self) -> None:
        self.session.close()

    def _observation(self, reward: float | None, done: bool, grade: dict[str, Any] | None) -> SelfCorrectionObservation:
        return SelfCorrectionObservation(
            messages=[{k: escape_surrogates(v) for k, v in m.items()} for m in self.session.messages],
            attempt=len(self.session.grades),
            max_attempts=self.session.choice.max_attempts,
            problem_id=escape_surrogates(self.session.problem_id),
            grade=grade,
            metrics=self.session.metrics() if done else {},
            reward=reward,
            done=done,
        )


def create_score_app(choice: EnvChoice, max_sessions: int = 64) -> FastAPI:
    """The FastAPI app of OpenEnv's server for one score env (an unknown env or split fails here)."""
    choice.spec()
    app = create_app(
        lambda: ScoreOpenEnv(choice),
        SelfCorrectionAction,
        SelfCorrectionObservation,
        env_name=choice.spec().short_name,
        max_concurrent_envs=max_sessions,
    )
    app.add_exception_handler(RequestRejected, _rejected)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    status_code = exc.status_code if isinstance(exc, RequestRejected) else 422
    return JSONResponse({"detail": str(exc)}, status_code=status_code)


class BodyLimit:
    """ASGI middleware: an HTTP request body over ``max_bytes`` is answered 413 with a JSON ``detail``, before the
    app reads it when ``Content-Length`` declares it, else as soon as the bytes received pass the limit."""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse({"detail": self.too_large}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:  # FastAPI passes an HTTPException from reading the body on as it is
                raise HTTPException(413, self.too_large)
            return message

        return await self.app(scope, limited_receive, send)

    @property
    def too_large(self) -> str:
        return f"the request body is larger than this server takes ({self.max_bytes:,} bytes at most)"


def serve(config: ServeConfig) -> None:
    """Run the server until interrupted (``score-env serve``)."""
    choice = EnvChoice(config.env, config.split, config.max_attempts, dict(config.env_kwargs), config.stop)
    app = create_score_app(choice, config.max_sessions)
    url = f"http://{config.host}:{config.port}"
    print(f"serving {choice.spec().env_id} ({config.split}) for OpenEnv clients at {url}", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", ws_max_size=MAX_BODY_BYTES)
