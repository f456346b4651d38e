"""verifiers 0.4 (its v1 stack): the taskset ``score_env_verifiers`` loaded by id, its env's episodes run by
verifiers (``Env.serving`` and ``run_episode``, as its eval runner does in-process) with the default harness, whose
model calls go through verifiers' interception server to a scripted OpenAI-compatible model server on 127.0.0.1.
What the model saw at each turn is verifiers' own record (the trace's messages); each turn's reward is its grade in
``trace.info["grades"]`` (verifiers 0.4 keeps no per-turn reward: it gets the rewards by name, whose mean over the
traces, with the traces' metrics, is the engine's aggregate here)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import verifiers.v1 as vf
from verifiers.v1.types import content_text

from score_env.records import Conversation, Message
from tests.adapters.harness import Case, Played, PlayedEpisode, Script

TASKSET = "score_env_verifiers"
KEY_VARIABLE = "SCORE_ENV_SCRIPTED_MODEL_KEY"  # the scripted server takes any key; verifiers reads it from here


@contextmanager
def scripted_model(script: Script) -> Iterator[str]:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 that answers with the script; yields its base URL."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            text = script(tuple(Message(m["role"], _text(m["content"])) for m in body["messages"]))
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            reply = {"id": "scripted", "object": "chat.completion", "created": 0, "model": body["model"]}
            data = json.dumps({**reply, "choices": [choice], "usage": usage}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            """Quiet: no line per request."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, name="scripted-model", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def load_env(case: Case, **taskset: Any) -> vf.Env:
    """The case's env as verifiers loads it by taskset id (``taskset``: more ``[env.taskset]`` fields)."""
    fields = {"env": case.env, "split": case.split, "max_attempts": case.max_attempts, "stop": case.stop}
    fields.setdefault("num_problems", max(case.indices) + 1)
    return vf.load_environment(vf.resolve_env_config({"taskset": {"id": TASKSET, **fields, **taskset}}))


def run_episodes(case: Case, script: Script, **taskset: Any) -> list[vf.Episode]:
    """The case's problems played by verifiers, one episode each, in the order of the case's indices."""
    env = load_env(case, **taskset)
    tasks = {task.data.index: task for task in env.taskset}
    os.environ.setdefault(KEY_VARIABLE, "scripted")

    async def play_all(url: str) -> list[vf.Episode]:
        ctx = vf.ModelContext(model="scripted", client=vf.EvalClientConfig(base_url=url, api_key_var=KEY_VARIABLE))
        async with env.serving():
            return await asyncio.gather(*(env.run_episode(tasks[i], ctx) for i in case.indices))

    with scripted_model(script) as url:
        return asyncio.run(play_all(url))


def play(case: Case, script: Script) -> Played:
    episodes, traces = [], []
    for episode in run_episodes(case, script):
        assert episode.ok and not episode.errors, episode.errors
        (trace,) = episode.traces
        grades = trace.info["grades"]
        rewards = tuple(1.0 if grade["correct"] else 0.0 for grade in grades)
        episodes.append(
            PlayedEpisode(trace.task.data.id, prompts(trace), rewards, tuple(grade["reason"] for grade in grades))
        )
        traces.append(trace)
    named = [{**{k: r.score for k, r in t.rewards.items()}, **t.metrics} for t in traces]
    return Played(tuple(episodes), {name: float(np.mean([n[name] for n in named])) for name in named[0]})


def prompts(trace: vf.Trace) -> tuple[Conversation, ...]:
    """What the model answered at each turn: the trace's messages before each of its replies."""
    messages = [Message(m.role, content_text(m.content)) for m in trace.messages]
    return tuple(tuple(messages[:i]) for i, m in enumerate(messages) if m.role == "assistant")


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):  # content parts
        return "".join(part.get("text", "") for part in content)
    return content or ""
