"""OpenEnv: the adapter's app served by uvicorn on 127.0.0.1 (a thread of the test process, so the test's own
registered tasks are there), driven by OpenEnv's ``GenericEnvClient`` over the WebSocket. OpenEnv has no metric
aggregation of its own: the mean of the final observations' metrics."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import uvicorn
from openenv.core.generic_client import GenericEnvClient

from score_env.adapters.episode import EnvChoice
from score_env.adapters.openenv_server import create_score_app
from score_env.records import to_conversation
from tests.adapters.harness import Case, Played, PlayedEpisode, Script

CONNECT_TIMEOUT_S = 10.0
MESSAGE_TIMEOUT_S = 30.0  # every call in these tests gets an answer or an error within this bound


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(choice: EnvChoice, max_sessions: int = 4) -> Iterator[str]:
    """Serve ``choice`` on 127.0.0.1 in a background thread; yields the base URL; stops the server on exit."""
    port = free_port()
    config = uvicorn.Config(create_score_app(choice, max_sessions), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"openenv-test-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def client(base_url: str):
    return GenericEnvClient(base_url, connect_timeout_s=CONNECT_TIMEOUT_S, message_timeout_s=MESSAGE_TIMEOUT_S).sync()


def play(case: Case, script: Script) -> Played:
    episodes, metrics = [], []
    choice = EnvChoice(case.env, case.split, case.max_attempts, stop=case.stop)
    with running_server(choice) as url, client(url) as env:
        for index in case.indices:
            result = env.reset(index=index)
            prompts, rewards, reasons = [], [], []
            while not result.done:
                prompts.append(to_conversation(result.observation["messages"]))
                result = env.step({"response": script(prompts[-1])})
                rewards.append(result.reward)
                reasons.append(result.observation["grade"]["reason"])
            metrics.append(result.observation["metrics"])
            problem_id = result.observation["problem_id"]
            episodes.append(PlayedEpisode(problem_id, tuple(prompts), tuple(rewards), tuple(reasons)))
    return Played(tuple(episodes), {name: float(np.mean([m[name] for m in metrics])) for name in metrics[0]})
