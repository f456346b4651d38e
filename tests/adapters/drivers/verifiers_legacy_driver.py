"""verifiers 0.2.1-0.3.x (``MultiTurnEnv``): the env's own ``generate`` with verifiers' real OpenAI chat client, whose
HTTP transport answers with the script (an OpenAI-compatible model server in-process: no network, no model). What the
model saw at each turn is verifiers' own record (``trajectory[t]["prompt"]``); metrics are verifiers' ``avg_metrics``
(the rubric's rewards by name among them)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import verifiers as vf
from openai import AsyncOpenAI

from score_env.adapters.episode import EnvChoice
from score_env.adapters.verifiers_env import ScoreMultiTurnEnv
from score_env.records import Message
from tests.adapters.harness import Case, Played, PlayedEpisode, Script


def scripted_client(script: Script) -> vf.Client:
    """verifiers' OpenAI chat-completions client on a transport that answers every request with the script."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        text = script(tuple(Message.from_dict(m) for m in body["messages"]))
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        completion = {"id": "scripted", "object": "chat.completion", "created": 0, "model": body["model"]}
        return httpx.Response(200, json={**completion, "choices": [choice], "usage": usage})

    transport = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    openai = AsyncOpenAI(base_url="http://scripted.invalid/v1", api_key="none", http_client=transport)
    return vf.OpenAIChatCompletionsClient(openai)


def generate(case: Case, script: Script, indices: Sequence[int] | None = None) -> vf.GenerateOutputs:
    choice = EnvChoice(case.env, case.split, case.max_attempts, stop=case.stop)
    env = ScoreMultiTurnEnv(choice, indices or case.indices)
    inputs = env.get_dataset().to_list()
    return env.generate_sync(
        inputs, client=scripted_client(script), model="scripted", state_columns=["trajectory"], on_progress=_quiet
    )


def play(case: Case, script: Script) -> Played:
    results = generate(case, script)
    by_index = {o["info"]["index"]: o for o in results["outputs"]}
    episodes = []
    for index in case.indices:
        output = by_index[index]
        assert output.get("error") is None, output["error"]
        steps = output["trajectory"]
        prompts = tuple(tuple(Message.from_dict(_as_dict(m)) for m in step["prompt"]) for step in steps)
        rewards = tuple(step["reward"] for step in steps)
        reasons = tuple(step["extras"]["grade"]["reason"] for step in steps)
        episodes.append(PlayedEpisode(output["info"]["problem_id"], prompts, rewards, reasons))
    metrics = {k: v for k, v in results["metadata"]["avg_metrics"].items() if k != "num_turns"}
    assert metrics.pop("grade_error") == 0.0
    return Played(tuple(episodes), metrics)


def _as_dict(message) -> dict[str, str]:
    if isinstance(message, dict):
        return {"role": message["role"], "content": message["content"]}
    return {"role": message.role, "content": message.content}


def _quiet(*args, **kwargs) -> None:
    """A progress callback that replaces verifiers' default progress bar."""
