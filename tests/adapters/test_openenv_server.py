"""The OpenEnv adapter with openenv-core itself: ``score-env serve`` over 127.0.0.1, typed and generic clients, and
every failure (a bad action, a crashed grader, a killed server) an error for the client, never a hang or a reward."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.adapters.conftest import require_engine

require_engine("openenv")

import httpx  # noqa: E402  (after the skip; openenv-core depends on it and on websockets)
from fastapi.testclient import TestClient  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from score_env.adapters.episode import EnvChoice  # noqa: E402
from score_env.adapters.openenv_protocol import ScoreEnvClient, SelfCorrectionAction  # noqa: E402
from score_env.adapters.openenv_server import MAX_BODY_BYTES, create_score_app  # noqa: E402
from score_env.envs.arithmetic import evaluate  # noqa: E402
from score_env.text import escape_surrogates  # noqa: E402
from tests.adapters.drivers.openenv_driver import (  # noqa: E402
    CONNECT_TIMEOUT_S,
    MESSAGE_TIMEOUT_S,
    client,
    free_port,
    running_server,
)
from tests.adapters.harness import DELIBERATE, PROBE_ENV, PROBE_INSTRUCTION, RIGHT_TWICE  # noqa: E402
from tests.hostile import HOSTILE  # noqa: E402

SERVER_START_S = 120  # a cold `score-env serve` imports torch, gradio (through openenv) and the task


@pytest.fixture(scope="module")
def probe_server(probe_tasks) -> Iterator[str]:
    with running_server(EnvChoice(PROBE_ENV, "test", max_attempts=2)) as url:
        yield url


@pytest.mark.parametrize("stop", ["fixed", "model_decides"])
def test_each_step_pays_its_own_reward_so_a_deliberate_fix_earns_no_more_than_right_twice(stop):
    with running_server(EnvChoice(PROBE_ENV, "test", max_attempts=2, stop=stop)) as url, client(url) as env:

        def play(responses):
            env.reset(index=0)
            results = [env.step({"response": response}) for response in responses]
            assert [r.done for r in results] == [False] * (len(results) - 1) + [True]
            return [r.reward for r in results], results[-1].observation["metrics"]

        (fix, fix_named), (keep, keep_named) = play(DELIBERATE[stop]), play(RIGHT_TWICE[stop])
    assert sum(fix) <= sum(keep)  # each step's own reward, summed into the return
    assert fix[0] == 0.0 and keep[0] == 1.0
    for rewards, named in ((fix, fix_named), (keep, keep_named)):
        assert named["attempt_1"] + named["attempt_2"] + named["verdicts"] == sum(rewards)


def test_a_bad_action_is_an_error_and_the_session_goes_on(probe_server):
    with client(probe_server) as env:
        env.reset(index=0)
        for bad in ({"text": "red"}, {"response": 3}, {}):
            with pytest.raises(RuntimeError, match="VALIDATION_ERROR"):
                env.step(bad)
        assert env.step({"response": "red"}).reward == 1.0


def test_a_crashed_grader_is_an_error_for_the_client_not_a_reward(probe_server):
    with client(probe_server) as env:
        env.reset(index=0)
        with pytest.raises(RuntimeError, match=r"grading attempt 1 of problem 'probe/0' failed.*EXECUTION_ERROR"):
            env.step({"response": "CRASH"})
        with pytest.raises(RuntimeError, match="call reset"):  # that episode is over
            env.step({"response": "red"})
        env.reset(index=0)
        assert env.step({"response": "red"}).reward == 1.0


@pytest.mark.parametrize(
    ("misuse", "message"),
    [
        (lambda env: env.step({"response": "red"}), "reset"),  # no episode yet
        (lambda env: env.reset(idx=1), "unknown reset option"),
        (lambda env: env.reset(index=99), "index"),
    ],
)
def test_misuse_is_an_error(probe_server, misuse, message):
    with client(probe_server) as env, pytest.raises(RuntimeError, match=message):
        misuse(env)


def test_a_step_after_the_last_attempt_is_an_error(probe_server):
    with client(probe_server) as env:
        env.reset(index=1)
        env.step({"response": "blue"})
        assert env.step({"response": "blue"}).done
        with pytest.raises(RuntimeError, match="ended after 2 attempts"):
            env.step({"response": "blue"})


def test_the_typed_client_sees_messages_for_the_model_and_grades_for_the_trainer(probe_server):
    with ScoreEnvClient(probe_server, CONNECT_TIMEOUT_S, MESSAGE_TIMEOUT_S).sync() as env:
        first = env.reset(index=2).observation
        assert (first.messages, first.attempt, first.grade) == (
            [{"role": "user", "content": "Say the word green."}],
            0,
            None,
        )
        result = env.step(SelfCorrectionAction(response="GREEN"))
        assert (result.reward, result.done, result.observation.grade["reason"]) == (0.0, False, "wrong")
        assert result.observation.messages[-1] == {"role": "user", "content": PROBE_INSTRUCTION}
        result = env.step(SelfCorrectionAction(response="green"))
        assert result.done and result.observation.metrics["delta_i_to_c"] == 1.0


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_in_a_response_and_its_grade_is_sent_not_a_server_error(probe_server, text):
    # pydantic's JSON cannot encode a lone surrogate: the server sends its escape; everything else goes as it is
    with client(probe_server) as env:
        env.reset(index=0)
        observation = env.step({"response": text}).observation
        assert observation["messages"][-2] == {"role": "assistant", "content": escape_surrogates(text)}
        assert observation["grade"]["extracted"] == escape_surrogates(text.strip())


@pytest.fixture(scope="module")
def probe_app() -> Iterator[TestClient]:
    """The server's app, called in this process: an exception that escapes it (what uvicorn would log, with its
    traceback, as a server error) raises here instead of becoming a 500."""
    with TestClient(create_score_app(EnvChoice(PROBE_ENV, "test", max_attempts=2))) as app:
        yield app


class Chunked:
    """A body sent without Content-Length (chunked): the server knows its size only as it comes."""

    def __init__(self, total: int):
        self.total = total

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.total // 1_000_000):
            yield b"x" * 1_000_000


OVERSIZED = f'{{"action": {{"response": "{"x" * (MAX_BODY_BYTES + 1)}"}}}}'.encode()
BAD_REQUESTS = {
    # id: (path, httpx arguments, status, what detail says: OpenEnv's own refusals give pydantic's list of errors)
    "step: not JSON": ("/step", {"content": b"{not json"}, 422, "json_invalid"),
    "step: a JSON list": ("/step", {"json": [1, 2]}, 422, "model_attributes_type"),
    "step: no action": ("/step", {"json": {"response": "red"}}, 422, "'action'"),
    "step: action not an object": ("/step", {"json": {"action": "red"}}, 422, "dict_type"),
    "step: response not a str": ("/step", {"json": {"action": {"response": 3}}}, 422, "string_type"),
    "step: unknown action field": ("/step", {"json": {"action": {"text": "red"}}}, 422, "extra_forbidden"),
    # plain HTTP builds a fresh env per request: a well-formed step there never has an episode
    "step: before reset": ("/step", {"json": {"action": {"response": "red"}}}, 409, "call reset first"),
    "step: oversized": ("/step", {"content": OVERSIZED}, 413, "larger than this server takes"),
    "step: oversized, chunked": ("/step", {"content": Chunked(MAX_BODY_BYTES + 10**6)}, 413, "larger than"),
    "reset: unknown option": ("/reset", {"json": {"idx": 1}}, 422, "unknown reset option(s) ['idx']"),
    "reset: index out of range": ("/reset", {"json": {"index": 99}}, 422, "index must be an int in [0, "),
    "reset: index not an int": ("/reset", {"json": {"index": "1"}}, 422, "got '1'"),
}


@pytest.mark.parametrize(("path", "request_", "status", "detail"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_bad_http_request_is_a_4xx_json_error_not_a_server_error(probe_app, path, request_, status, detail):
    response = probe_app.post(path, headers={"content-type": "application/json"}, **request_)
    assert response.status_code == status, response.text
    assert detail in str(response.json()["detail"]), response.text


def test_score_env_serve_answers_a_client_over_loopback_and_a_killed_server_is_an_error():
    port = free_port()
    command = [sys.executable, "-m", "score_env.cli", "serve", "env=arithmetic", "split=test", f"port={port}"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ)
    try:
        url = _wait_until_serving(server, port)
        with client(url) as env:
            result = env.reset(index=3)
            (prompt,) = result.observation["messages"]
            expression = prompt["content"].removeprefix("Compute ").split(".")[0]
            result = env.step({"response": f"Answer: {evaluate(expression)}"})
            assert (result.reward, result.done, result.observation["messages"][-1]["role"]) == (1.0, False, "user")
            result = env.step({"response": "Answer: x"})
            assert (result.reward, result.done, result.observation["grade"]["reason"]) == (0.0, True, "unparsable")

            env.reset(index=4)
            server.kill()  # the server dies in the middle of an episode
            server.wait(timeout=30)
            with pytest.raises(ConnectionClosed):  # at once: not a hang until the client's timeout
                env.step({"response": "Answer: 0"})
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=30)


def _wait_until_serving(server: subprocess.Popen, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"score-env serve exited with {server.returncode}:\n{server.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"score-env serve did not answer on port {port} within {SERVER_START_S} s")
