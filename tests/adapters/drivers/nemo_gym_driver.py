"""NeMo Gym: three servers on 127.0.0.1, wired as ``ng_run`` wires them (one ``ServerClient`` over a config that
names each): the adapter's resources server, NeMo Gym's own ``gymnasium_agent``, and a model server (the Responses
API's ``/v1/responses``) that answers with the script. Each row of ``nemo_gym_rows`` goes to the agent's ``/run`` as
NeMo Gym's rollout collection posts it (one at a time here, so each episode's model calls are its own). Each turn's
reward is what the agent got from ``/step`` (read off the wire; the agent returns only their sum, checked), and the
metrics are NeMo Gym's own aggregate: the agent's ``/aggregate_metrics`` of the rollouts, which asks the server.

The servers run in one event loop in a worker thread (uvicorn captures signals only in the main thread), with NeMo
Gym's global aiohttp client made in that loop and released after it.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import Body, FastAPI, Response
from nemo_gym.config_types import BaseServerConfig, ModelServerRef, ResourcesServerRef
from nemo_gym.global_config import AGENT_REF_KEY_NAME, ROLLOUT_INDEX_KEY_NAME, TASK_INDEX_KEY_NAME
from nemo_gym.server_utils import (
    GlobalAIOHTTPAsyncClientConfig,
    ServerClient,
    get_response_json,
    global_aiohttp_client_exit,
    set_global_aiohttp_client,
)
from omegaconf import OmegaConf
from responses_api_agents.gymnasium_agent.app import GymnasiumAgent, GymnasiumAgentConfig

from score_env.adapters.nemo_gym_env import METRICS_PREFIX, ScoreGymnasiumConfig, ScoreGymnasiumServer, nemo_gym_rows
from score_env.records import Conversation, to_conversation
from tests.adapters.harness import Case, Played, PlayedEpisode, Script

RESOURCES, AGENT, MODEL = "score_env", "score_agent", "script_model"  # the servers' names in NeMo Gym's config
PLAY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Rollout:
    """One row's rollout as NeMo Gym saw it."""

    result: dict[str, Any]  # the agent's /run answer: its `reward` (the steps' sum), `terminated`, `info`, ...
    steps: tuple[dict[str, Any], ...]  # the /step answers the agent got
    prompts: tuple[Conversation, ...]  # the model's input at each call


def play(case: Case, script: Script) -> Played:
    rollouts, aggregate = collect(case, script)
    episodes = []
    for rollout in rollouts:
        rewards = tuple(float(step["reward"]) for step in rollout.steps)
        assert rollout.result["terminated"] and rollout.result["reward"] == sum(rewards), rollout.result
        reasons = tuple(step["info"]["reason"] for step in rollout.steps)
        episodes.append(PlayedEpisode(rollout.steps[-1]["info"]["problem_id"], rollout.prompts, rewards, reasons))
    metrics = aggregate["agent_metrics"]
    return Played(
        tuple(episodes), {k.removeprefix(METRICS_PREFIX): v for k, v in metrics.items() if k.startswith(METRICS_PREFIX)}
    )


def collect(case: Case, script: Script) -> tuple[list[Rollout], dict[str, Any]]:
    """The case's rollouts, and NeMo Gym's aggregate of them (the agent's ``/aggregate_metrics`` answer)."""
    with ThreadPoolExecutor(1, thread_name_prefix="nemo-gym-driver") as thread:
        try:
            return thread.submit(asyncio.run, _collect(case, script)).result(timeout=PLAY_TIMEOUT_S)
        finally:
            global_aiohttp_client_exit()  # NeMo Gym's way to make the next run's client anew (in its own loop)


async def _collect(case: Case, script: Script) -> tuple[list[Rollout], dict[str, Any]]:
    steps: list[dict[str, Any]] = []  # every /step answer, as the agent received it
    prompts: list[Conversation] = []  # every model call's input
    rollouts = []
    async with running_servers(case, script, steps, prompts) as client:
        for task_index, row in enumerate(nemo_gym_rows(case.env, case.split, case.indices, agent=AGENT)):
            first_step, first_call = len(steps), len(prompts)
            row |= {TASK_INDEX_KEY_NAME: task_index, ROLLOUT_INDEX_KEY_NAME: 0}
            result = await _post(client, AGENT, "/run", row)
            # As NeMo Gym's rollout collection keeps a result: with the row's indices and agent.
            result |= {k: row[k] for k in (TASK_INDEX_KEY_NAME, ROLLOUT_INDEX_KEY_NAME, AGENT_REF_KEY_NAME)}
            rollouts.append(Rollout(result, tuple(steps[first_step:]), tuple(prompts[first_call:])))
        # As it asks for a run's metrics: the results without their conversations.
        stripped = [
            {k: v for k, v in r.result.items() if k not in ("response", "responses_create_params")} for r in rollouts
        ]
        aggregate = await _post(client, AGENT, "/aggregate_metrics", {"verify_responses": stripped})
    return rollouts, aggregate


@asynccontextmanager
async def running_servers(
    case: Case, script: Script, steps: list[dict[str, Any]], prompts: list[Conversation]
) -> AsyncIterator[ServerClient]:
    """The three servers, serving; yields the client that reaches them by name."""
    sockets = {name: _loopback_socket() for name in (RESOURCES, MODEL, AGENT)}
    address = {name: {"host": "127.0.0.1", "port": s.getsockname()[1]} for name, s in sockets.items()}
    client = ServerClient(
        head_server_config=BaseServerConfig(host="127.0.0.1", port=0),  # no head server: the config is given
        global_config_dict=OmegaConf.create(
            {
                RESOURCES: {"resources_servers": {"score_env": address[RESOURCES]}},
                MODEL: {"responses_api_models": {"script": address[MODEL]}},
                AGENT: {"responses_api_agents": {"gymnasium_agent": address[AGENT]}},
            }
        ),
    )
    resources = ScoreGymnasiumServer(
        config=ScoreGymnasiumConfig(
            **address[RESOURCES], entrypoint="app.py", name=RESOURCES, env=case.env, split=case.split,
            max_attempts=case.max_attempts, stop=case.stop,
        ),
        server_client=client,
    )  # fmt: skip
    agent = GymnasiumAgent(
        config=GymnasiumAgentConfig(
            **address[AGENT], entrypoint="app.py", name=AGENT,
            resources_server=ResourcesServerRef(type="resources_servers", name=RESOURCES),
            model_server=ModelServerRef(type="responses_api_models", name=MODEL),
            max_steps=resources.config.choice().max_turns,  # so a rollout ends by the env's terminated, not truncated
        ),
        server_client=client,
    )  # fmt: skip
    apps = {
        RESOURCES: _recording(_app_of(resources), "/step", steps),
        MODEL: scripted_model(script, prompts),
        AGENT: _app_of(agent),
    }
    session = set_global_aiohttp_client(GlobalAIOHTTPAsyncClientConfig())  # in this loop: the agent's client
    async with AsyncExitStack() as stack:
        stack.push_async_callback(session.close)  # closed first, then the servers stop
        for name, app in apps.items():
            await stack.enter_async_context(_serving(app, sockets[name]))
        yield client


def _app_of(server: Any) -> FastAPI:
    app = server.setup_webserver()
    server.setup_exception_middleware(app)  # as NeMo Gym's run_webserver serves it: an exception is a 500
    return app


def scripted_model(script: Script, prompts: list[Conversation]) -> FastAPI:
    """A Responses API model server whose reply is ``script(conversation)``. It sends JSON as common encoders do
    (``json.dumps``: non-ASCII as ``\\u`` escapes), which NeMo Gym's agent parses with orjson."""
    app = FastAPI()

    @app.post("/v1/responses")
    async def responses(body: dict[str, Any] = Body()) -> Response:  # noqa: B008  (FastAPI's way to take the body)
        prompts.append(to_conversation([_message(item) for item in body["input"]]))
        return Response(json.dumps(model_response(script(prompts[-1]))), media_type="application/json")

    return app


def _message(item: dict[str, Any]) -> dict[str, str]:
    """A Responses API input item (a user message, or the model's own earlier output message) as a chat message."""
    content = item["content"]
    if not isinstance(content, str):
        content = "".join(part["text"] for part in content if part["type"] in ("input_text", "output_text"))
    return {"role": item["role"], "content": content}


def model_response(text: str) -> dict[str, Any]:
    """A Responses API reply whose one output message says ``text`` (a ``NeMoGymResponse`` as JSON)."""
    message = {"id": "msg", "type": "message", "role": "assistant", "status": "completed"}
    message["content"] = [{"type": "output_text", "text": text, "annotations": []}]
    return {
        "id": "resp", "created_at": 0.0, "model": "script", "object": "response", "output": [message],
        "parallel_tool_calls": False, "tool_choice": "auto", "tools": [],
    }  # fmt: skip


def _recording(app: FastAPI, path: str, record: list[dict[str, Any]]) -> Callable:
    """``app``, keeping the JSON body of every response to ``path`` (what the caller received)."""

    async def recorded(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] != path:
            return await app(scope, receive, send)
        body = bytearray()

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await app(scope, receive, capture)
        record.append(json.loads(body))

    return recorded


def _loopback_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def _serving(app: Callable, sock: socket.socket) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # its exception
            raise RuntimeError(f"a test server on {sock.getsockname()} stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _post(client: ServerClient, server: str, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(server_name=server, url_path=path, json=body)
    if not response.ok:  # the answer says why (NeMo Gym's exception middleware: the exception's repr)
        raise RuntimeError(
            f"{server} {path}: HTTP {response.status}: {(await response.read()).decode(errors='replace')}"
        )
    return await get_response_json(response)
