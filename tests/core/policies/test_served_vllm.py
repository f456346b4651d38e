"""policy.backend=openai against a real `vllm serve` on 127.0.0.1 (CI: .ci/vllm_cpu.sh, the vllm-cpu build): the
served model's greedy answers equal the same model's through the in-process vLLM backend, and `score-env eval` runs
on it end to end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed here (optional extra; .ci/vllm_cpu.sh tests it on CPU)")
pytestmark = pytest.mark.vllm

from score_env.cli import main  # noqa: E402
from score_env.config.policy import PolicyConfig  # noqa: E402
from score_env.policies import SamplingParams  # noqa: E402
from score_env.records import Message  # noqa: E402

CONVERSATIONS = [(Message("user", f"Compute {i} + {2 * i} - 1. End with 'Answer: <integer>'."),) for i in range(6)]
START_S = 600  # a CPU build loads and warms up slowly


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The embedded model (small, and it answers: its greedy outputs differ from problem to problem), served by
    `vllm serve` on loopback until the module's tests end."""
    from score_env.assets import embedded_model_path

    path = embedded_model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("served-log") / "vllm.log"
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(path), "--host",
               "127.0.0.1", "--port", str(port), "--dtype", "float32", "--max-model-len", "512", "--enforce-eager",
               "--seed", "0", "--served-model-name", "tiny"]  # fmt: skip
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                if "tiny" in answer.read().decode():
                    break
        except OSError:
            time.sleep(2)
    else:
        server.kill()
        pytest.fail(f"vllm serve did not come up: {log.read_text()[-3000:]}")
    yield path, url
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


def test_greedy_answers_equal_the_in_process_vllm_backend(served):
    from score_env.policies.vllm_backend import VLLMPolicy

    path, url = served
    params = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=24)
    policy = PolicyConfig(backend="openai", base_url=url, api="completions", tokenizer=str(path)).load("tiny")
    over_http = [row[0].text for row in policy.generate(CONVERSATIONS, params)]
    local = VLLMPolicy.from_pretrained(str(path), max_model_len=512, enforce_eager=True, seed=0)
    in_process = [row[0].text for row in local.generate(CONVERSATIONS, params)]
    assert over_http == in_process and len(set(over_http)) > 1 and all("Answer:" in t for t in over_http)
    assert policy.usage.requests == len(CONVERSATIONS) and policy.usage.completion_tokens > 0


def test_score_env_eval_runs_on_the_served_model(served, tmp_path):
    path, url = served
    argv = ["eval", "agent=prompting", "env=arithmetic", "model=tiny", "policy.backend=openai",
            f"policy.base_url={url}", "policy.api=completions", f"policy.tokenizer={path}", "limit=4",
            "sampling.max_new_tokens=24", f"run_dir={tmp_path / 'run'}"]  # fmt: skip
    assert main(argv) == 0
    assert len((tmp_path / "run" / "episodes.jsonl").read_text().splitlines()) == 4
    assert json.loads((tmp_path / "run" / "usage.json").read_text())["requests"] == 8
