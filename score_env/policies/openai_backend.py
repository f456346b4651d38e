"""A served model as a policy (``policy.backend=openai``): any OpenAI-compatible endpoint (vLLM, SGLang, TGI,
llama.cpp, an API).

Generation only: the weights are the server's, so nothing here can be trained (``score-env train`` refuses it). It
serves ``eval``, the benchmark's untrained rows (prompting) and the base model's first attempts, the fixed-first-attempt
evaluation, and anything else that only samples.

- ``api="chat"`` sends the conversation as messages (the server applies the model's chat template);
  ``api="completions"`` sends the prompt rendered here with the model's tokenizer, exactly as the in-process backends
  render it (for a model without a chat template, or to match them token for token).
- Requests run ``concurrency`` at a time; the ``openai`` client retries rate limits (429), timeouts and server errors
  (5xx) with exponential backoff (``max_retries``), each request bounded by ``timeout_s``.
- The API key comes from the environment variable ``api_key_env`` names (never from a config file or a log); a
  local server that wants none needs none.
- Token usage (prompt and completion tokens, requests) is counted in :attr:`OpenAIPolicy.usage`; ``score-env eval``
  writes it to the run's ``usage.json``. A served model returns text, not token ids: completions carry no ids or
  log-probs (nothing that only samples needs them).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from score_env.policies import SamplingParams
from score_env.policies.chat import render_prompt
from score_env.records import Completion, Conversation

Api = Literal["chat", "completions"]
NO_KEY = "no-key"  # what the client sends when the environment holds no key (a local server ignores it)


class ServedModelError(ValueError):
    """The endpoint cannot serve this model: unreachable, unknown model, refused key (one line, said before a run)."""


class ServerFailed(RuntimeError):
    """A request failed after every retry during a run: the run stops there (what finished is kept)."""


@dataclass
class Usage:
    """Tokens and requests spent, across threads."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, usage: Any) -> None:
        with self._lock:
            self.requests += 1
            self.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}  # fmt: skip


def api_key(variable: str) -> str | None:
    """The key in environment variable ``variable`` (None when it is unset or empty)."""
    return os.environ.get(variable) or None


def make_client(base_url: str, key_variable: str, timeout_s: float, max_retries: int) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=base_url, api_key=api_key(key_variable) or NO_KEY, timeout=timeout_s,
                  max_retries=max_retries)  # fmt: skip


def check_served(client: Any, model: str, base_url: str, key_variable: str) -> None:
    """The endpoint answers, takes the key, and serves ``model``: one :class:`ServedModelError` line otherwise."""
    import openai

    try:
        served = [m.id for m in client.with_options(max_retries=0).models.list()]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
        have = "the key in $" + key_variable if api_key(key_variable) else f"no key (${key_variable} is not set)"
        why = f"set {key_variable} to a valid key, or name another variable with policy.api_key_env"
        raise ServedModelError(f"the server at {base_url} refused {have} ({error.status_code}): {why}") from None
    except openai.APIConnectionError as error:
        raise ServedModelError(f"no OpenAI-compatible server answers at {base_url} ({type(error).__name__}): start "
                               "it (e.g. vllm serve <model>), or fix policy.base_url") from None  # fmt: skip
    except openai.APIStatusError as error:
        raise ServedModelError(f"the server at {base_url} answered {error.status_code} to GET /models: is "
                               "policy.base_url its OpenAI API root (ending in /v1)?") from None  # fmt: skip
    if model not in served:
        listed = ", ".join(served[:10]) + (f" (+{len(served) - 10} more)" if len(served) > 10 else "")
        raise ServedModelError(f"model={model!r} is not served at {base_url}; it serves: {listed or 'nothing'}")


class OpenAIPolicy:
    """A :class:`~score_env.policies.Policy` over an OpenAI-compatible endpoint."""

    def __init__(self, client: Any, model: str, *, api: Api = "chat", tokenizer: Any = None, concurrency: int = 8):
        if api == "completions" and tokenizer is None:
            raise ValueError("api='completions' renders prompts here: it needs the model's tokenizer")
        self.client, self.model, self.api, self.tokenizer = client, model, api, tokenizer
        self.concurrency = concurrency
        self.usage = Usage()

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        jobs = [(row, sample) for row in range(len(conversations)) for sample in range(params.n)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            flat = list(pool.map(lambda job: self._one(conversations[job[0]], params, job[1]), jobs))
        return [flat[row * params.n : (row + 1) * params.n] for row in range(len(conversations))]

    def _one(self, conversation: Conversation, params: SamplingParams, sample: int) -> Completion:
        import openai

        try:
            return self._request(conversation, params, sample)
        except openai.APIError as error:  # retried with backoff by the client already
            why = " ".join(str(error).split())[:300]
            raise ServerFailed(f"the server at {self.client.base_url} failed a request after {self.client.max_retries} "
                               f"retries: {type(error).__name__}: {why}") from None  # fmt: skip

    def _request(self, conversation: Conversation, params: SamplingParams, sample: int) -> Completion:
        settings: dict[str, Any] = {
            "model": self.model,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_new_tokens,
        }
        if params.seed is not None:
            settings["seed"] = params.seed + sample  # the n samples of one prompt differ, and repeat with the seed
        if params.stop:
            settings["stop"] = list(params.stop)
        if self.api == "chat":
            response = self.client.chat.completions.create(messages=[m.as_dict() for m in conversation], **settings)
            choice = response.choices[0]
            text = choice.message.content or ""
        else:
            response = self.client.completions.create(prompt=render_prompt(self.tokenizer, conversation), **settings)
            choice = response.choices[0]
            text = choice.text or ""
        self.usage.add(response.usage)
        stopped_at = getattr(choice, "stop_reason", None)  # vLLM: which stop string ended it (the API drops it)
        if isinstance(stopped_at, str) and stopped_at in params.stop:
            text += stopped_at  # kept, as the in-process backends keep it
        finish = "length" if choice.finish_reason == "length" else "stop"
        return Completion(text, (), (), finish)
