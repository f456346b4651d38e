"""A small OpenAI-compatible server on 127.0.0.1 for the openai backend's tests: it answers arithmetic prompts
(right at the first attempt of even expressions, wrong otherwise), and can require a key, fail requests with a
status, or answer slowly. It stands in for vLLM/SGLang/an API in the default test run; .ci/vllm_cpu.sh tests the
backend against a real `vllm serve`."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from score_env.envs.arithmetic import evaluate

MODEL = "served-model"


@dataclass
class Behaviour:
    key: str | None = None  # required bearer key
    fail: list[int] = field(default_factory=list)  # statuses to answer the next requests with, in order
    delay_s: float = 0.0
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def answer(prompt: str) -> str:
    """Right when the expression's value is even and it is attempt 1, else off by one."""
    expressions = re.findall(r"Compute (.+?)\. End with", prompt)
    if not expressions:
        return "I do not know."
    value = evaluate(expressions[-1])
    second = "There might be an error" in prompt
    return f"Answer: {value if value % 2 == 0 and not second else value + 1}"


def make_handler(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:  # noqa: C901  (one small server)
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refused(self) -> bool:
            behaviour.headers.append({k.lower(): v for k, v in self.headers.items()})
            if behaviour.key and self.headers.get("Authorization") != f"Bearer {behaviour.key}":
                self._reply(401, {"error": {"message": "bad key", "type": "auth"}})
                return True
            with behaviour.lock:
                status = behaviour.fail.pop(0) if behaviour.fail else None
            if status:
                self._reply(status, {"error": {"message": "try again", "type": "server"}})
                return True
            return False

        def do_GET(self) -> None:
            if self._refused():
                return
            self._reply(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self._refused():
                return
            with behaviour.lock:
                behaviour.requests.append(body)
                behaviour.in_flight += 1
                behaviour.most_in_flight = max(behaviour.most_in_flight, behaviour.in_flight)
            time.sleep(behaviour.delay_s)
            with behaviour.lock:
                behaviour.in_flight -= 1
            if body.get("model") != MODEL:
                self._reply(404, {"error": {"message": "no such model", "type": "not_found"}})
                return
            chat = self.path.endswith("/chat/completions")
            prompt = "\n".join(m["content"] for m in body["messages"]) if chat else body["prompt"]
            text = answer(prompt)
            choice = {"index": 0, "finish_reason": "stop", "logprobs": None}
            choice |= {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": 2, "total_tokens": 2}
            self._reply(200, {"id": "x", "object": "chat.completion" if chat else "text_completion", "created": 0,
                              "model": MODEL, "choices": [choice], "usage": usage})  # fmt: skip

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up (the timeout test): nothing to report


class Served:
    """``with Served() as server: server.url``: the server on a free port, stopped at the end."""

    def __init__(self, **behaviour: Any) -> None:
        self.behaviour = Behaviour(**behaviour)
        self.server = QuietServer(("127.0.0.1", 0), make_handler(self.behaviour))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> Served:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
