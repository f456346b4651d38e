"""policy.backend=openai against an OpenAI-compatible server on 127.0.0.1 (tests/core/policies/served.py): eval end
to end, concurrency, retries with backoff, the key from the environment only, token usage in the run, and every
mistake one line before any episode. .ci/vllm_cpu.sh runs the same backend against a real `vllm serve`."""

from __future__ import annotations

import json
import socket

import pytest

from score_env.cli import main
from score_env.policies import SamplingParams
from score_env.policies.openai_backend import OpenAIPolicy, ServerFailed, make_client
from score_env.records import Message
from tests.core.policies.served import MODEL, Served

pytest.importorskip("openai")  # the openai extra (in dev)

CONVERSATIONS = [(Message("user", f"Compute {i} + {i + 1}. End with 'Answer: <integer>'."),) for i in range(8)]
GREEDY = SamplingParams(temperature=0.0, top_p=1.0, max_new_tokens=16)


def served_eval(url: str, run_dir, *extra: str) -> list[str]:
    return ["eval", "agent=prompting", "env=arithmetic", f"model={MODEL}", "policy.backend=openai",
            f"policy.base_url={url}", "limit=6", f"run_dir={run_dir}", *extra]  # fmt: skip


def test_eval_of_a_served_model_records_its_episodes_metrics_and_usage(tmp_path, capsys):
    with Served() as server:
        assert main(served_eval(server.url, tmp_path / "run")) == 0
    episodes = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").open()]
    assert [e["attempts"][0]["text"].startswith("Answer: ") for e in episodes] == [True] * 6
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    even = sum(
        int(json.loads(line)["attempts"][0]["grade"]["correct"])
        for line in (tmp_path / "run" / "episodes.jsonl").open()
    )
    assert metrics["estimates"]["acc@t1"]["value"] == even / 6 and metrics["estimates"]["acc@t2"]["value"] == 0.0
    usage = json.loads((tmp_path / "run" / "usage.json").read_text())
    assert usage["requests"] == 12 and usage["completion_tokens"] == 24 and usage["prompt_tokens"] > 0
    second = server.behaviour.requests[-1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]  # attempt 2 sees the conversation


def test_requests_run_concurrently_up_to_the_limit(tmp_path):
    with Served(delay_s=0.2) as server:
        policy = OpenAIPolicy(make_client(server.url, "NO_SUCH_VAR", 10, 0), MODEL, concurrency=3)
        out = policy.generate(CONVERSATIONS, GREEDY)
    assert len(out) == 8 and server.behaviour.most_in_flight == 3 and policy.usage.requests == 8


def test_rate_limits_and_server_errors_are_retried_with_backoff():
    with Served(fail=[429, 500, 503]) as server:
        policy = OpenAIPolicy(make_client(server.url, "NO_SUCH_VAR", 10, 3), MODEL, concurrency=1)
        [[completion]] = policy.generate(CONVERSATIONS[:1], GREEDY)
    assert completion.text == "Answer: 2" and policy.usage.requests == 1


def test_a_request_that_keeps_failing_stops_the_run_in_one_line(tmp_path, capsys):
    with Served(fail=[500] * 50) as server:
        policy = OpenAIPolicy(make_client(server.url, "NO_SUCH_VAR", 10, 1), MODEL)
        with pytest.raises(ServerFailed, match="failed a request after 1 retries: InternalServerError"):
            policy.generate(CONVERSATIONS[:1], GREEDY)


def test_a_slow_server_times_out():
    with Served(delay_s=2.0) as server:
        policy = OpenAIPolicy(make_client(server.url, "NO_SUCH_VAR", 0.3, 0), MODEL)
        with pytest.raises(ServerFailed, match="APITimeoutError"):
            policy.generate(CONVERSATIONS[:1], GREEDY)


def test_the_key_comes_from_the_environment_and_is_never_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MY_SERVER_KEY", "sk-secret-123")
    with Served(key="sk-secret-123") as server:
        assert main(served_eval(server.url, tmp_path / "run", "policy.api_key_env=MY_SERVER_KEY")) == 0
        assert server.behaviour.headers[-1]["authorization"] == "Bearer sk-secret-123"
    written = "".join(p.read_text() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert "sk-secret-123" not in written and "sk-secret-123" not in "".join(capsys.readouterr())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_each_mistake_is_one_line_before_any_episode(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    unreachable = f"http://127.0.0.1:{_free_port()}/v1"
    cases = [
        (served_eval(unreachable, tmp_path / "a"), "no OpenAI-compatible server answers at"),
        (["eval", "model=gpt-x", "policy.backend=openai"], "policy.backend=openai needs policy.base_url"),
    ]
    with Served(key="sk-1") as keyed, Served() as server:
        cases += [
            (served_eval(keyed.url, tmp_path / "b"), "refused no key ($OPENAI_API_KEY is not set) (401)"),
            (
                [
                    *served_eval(server.url, tmp_path / "c")[:3],
                    "model=other-model",
                    *served_eval(server.url, tmp_path / "c")[4:],
                ],
                f"model='other-model' is not served at {server.url}; it serves: {MODEL}",
            ),
            (
                ["train", f"model={MODEL}", "policy.backend=openai", f"policy.base_url={server.url}"],
                "training needs the model's weights in this process",
            ),
            (
                [
                    "benchmark",
                    "config=benchmark_quick",
                    f"model={MODEL}",
                    "policy.backend=openai",
                    f"policy.base_url={server.url}",
                ],
                "policy.backend=openai only samples a served model",
            ),
        ]
        for argv, expected in cases:
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and expected in err and "Traceback" not in err, err
    assert not any((tmp_path / d).exists() for d in "abc")  # nothing ran
