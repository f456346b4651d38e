"""Preflight: every choice a user makes (env, split, model, env arguments) checked in seconds, before anything loads.

A mistake becomes one :class:`~score_env.config.ConfigError` that names what was wrong, the value, and what is
allowed or what to do.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError, create_model

from score_env.assets import EMBEDDED, resolve_model
from score_env.config import ConfigError
from score_env.config.errors import describe_validation_error
from score_env.config.imports import import_modules
from score_env.env import check_episode_settings
from score_env.policies.model_files import ModelFilesError, check_model_files
from score_env.records import Grade
from score_env.registry import EnvFactory, TaskSpec, UnknownNameError, resolve_env
from score_env.task import ResolvesArguments
from score_env.training.checkpoint import is_training_run
from score_env.watchdog import GraderHung, within


def check_env_choice(env: str, split: str, model: str | None = None, policy: Any = None) -> tuple[str, str]:
    """Resolve the env name and check the split (and the model: a local path, or with ``policy.backend=openai`` the
    name an endpoint serves) before anything is loaded."""
    try:
        spec = resolve_env(env)
    except UnknownNameError as exc:
        raise ConfigError(f"env={env!r}: {exc}") from None
    if split not in spec.splits:
        raise ConfigError(f"split={split!r} is not a split of {spec.env_id}. Allowed: {', '.join(spec.splits)}.")
    if model is not None and getattr(policy, "served", False):
        check_served_model(policy, model)
    elif model is not None:
        check_model(model)
    return spec.env_id, spec.short_name


def check_served_model(policy: Any, model: str) -> None:
    """The endpoint of ``policy.backend=openai`` answers, takes the key and serves ``model``: one line otherwise."""
    from score_env.policies.openai_backend import ServedModelError, check_served, make_client

    client = make_client(policy.base_url, policy.api_key_env, min(policy.timeout_s, 10.0), 0)
    try:
        check_served(client, model, policy.base_url, policy.api_key_env)
    except ServedModelError as error:
        raise ConfigError(str(error)) from None


def check_model(model: str) -> None:
    """A model directory, a training run directory, or a hub name that is cached or that the hub knows: checked
    now, in seconds, before anything loads (offline, an unknown name fails at once instead of after retries). A
    model directory's files are checked too (:mod:`score_env.policies.model_files`): what an interrupted download
    leaves is one line here, not a traceback from transformers. A training run's checkpoints were written
    atomically, and a hub model's missing files are downloaded when it loads: neither is checked further."""
    path = Path(resolve_model(model)).expanduser()
    if path.is_dir():
        if is_training_run(path):
            return
        if not (path / "config.json").exists():
            raise ConfigError(f"model={model!r}: {path} holds no model (no config.json) and no training run")
        _check_model_files(model, path)
        return
    if path.exists():
        raise ConfigError(f"model={model!r} is a file, not a model directory: give the directory that holds its "
                          "config.json")  # fmt: skip
    if _looks_local(model):
        raise ConfigError(f"model={model!r}: no such directory (a local path, or a hub name such as org/name)")
    from huggingface_hub import model_info, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return
    if not hub_reachable():
        raise ConfigError(
            f"model={model!r} is not a local directory, not in the Hugging Face cache, and the hub cannot be reached "
            "from here; give a local path, or download the model first"
        )
    try:
        model_info(model, timeout=10)
    except Exception as exc:  # noqa: BLE001  (the hub's client raises its own HTTP errors: any of them means "no")
        raise ConfigError(
            f"model={model!r}: the Hugging Face hub does not give this model ({type(exc).__name__})"
        ) from None


def _check_model_files(model: str, path: Path) -> None:
    try:
        check_model_files(path)
    except ModelFilesError as exc:
        if not exc.damaged:
            raise ConfigError(f"model={model!r}: {exc}") from None
        if model == EMBEDDED:  # the package's own files: the install is what is damaged
            raise ConfigError(f"model={model!r} ({path}): {exc}: reinstall score-env (pip install --force-reinstall "
                              "--no-deps score-env)") from None  # fmt: skip
        raise ConfigError(f"model={model!r}: {exc}: an interrupted download? re-download the model, or save it "
                          "again") from None  # fmt: skip


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether huggingface.co answers on port 443 within ``timeout_s`` (name lookup included: it runs in a thread,
    since a resolver without network can take a minute to give up)."""
    import socket
    import threading

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", ""):
        return False
    reached: list[bool] = []

    def connect() -> None:
        try:
            socket.create_connection(("huggingface.co", 443), timeout=timeout_s).close()
            reached.append(True)
        except OSError:
            reached.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return bool(reached and reached[0])


def env_factory(
    env_id: str, split: str, feedback: Any, env_kwargs: dict, stop: Any = "fixed", grade_bound_s: float | None = None
) -> EnvFactory:
    """An env factory (unopened: the run opens it) whose arguments are checked now (their keys and types against
    the task's signature, then the task is built once and closed), before any model loads. A task that resolves a
    choice (a code task's ``sandbox="auto"``) has the resolved value in the factory's arguments, so the run's config
    records what really judged it. The grader must return on an empty response within ``grade_bound_s``
    (:data:`GRADE_BOUND_S`)."""
    factory = EnvFactory(env_id, split, feedback, check_env_kwargs(resolve_env(env_id), env_kwargs), stop)
    try:
        check_episode_settings(2, feedback, stop)  # before building a task for nothing
        envs = factory.open()
    except (ValueError, TypeError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"env_kwargs of {env_id} (split {split}): {message}") from None
    except Exception as exc:  # noqa: BLE001  (a user's task factory: whatever it raises is named, once)
        raise ConfigError(
            f"the task of {env_id} (split {split}) could not be built: {type(exc).__name__}: {exc}"
        ) from None
    with envs:
        _check_task(envs.task, env_id, grade_bound_s or GRADE_BOUND_S)
        resolved = envs.task.resolved_arguments() if isinstance(envs.task, ResolvesArguments) else {}
    if any(factory.kwargs.get(name) != value for name, value in resolved.items()):
        factory = replace(factory, kwargs={**factory.kwargs, **resolved})
    return factory


GRADE_BOUND_S = 60.0  # the longest a task's grader may take on an empty response, checked before every run


class GraderDoesNotReturn(ConfigError):
    """The task's grader did not return on an empty response within the bound (a run would hang on it)."""


def _check_task(task: Any, env_id: str, bound_s: float) -> None:
    """The rules of the Task protocol a run would break on its first problem, checked before any model loads: its
    prompt is text, and its grader returns a Grade (graded on an empty response: no code runs, no worker starts)."""
    if not task.problems:
        return
    problem = task.problems[0]
    bad = [m for m in task.first_prompt(problem) if not isinstance(m.content, str)]
    if bad:
        raise ConfigError(f"the task of {env_id} renders a prompt that is not text ({bad[0].content!r:.60}): a "
                          "message's content must be a str")  # fmt: skip
    try:
        grade = within(bound_s, lambda: task.grade(problem, ""), "grading an empty response")
    except GraderHung:
        raise GraderDoesNotReturn(
            f"the grader of {env_id} did not return within {bound_s:g} s on an empty response: a grader must return "
            "for every response (bound its work; return Grade.wrong or Grade.unparsable when it cannot decide)"
        ) from None
    except Exception:  # noqa: BLE001  (a grader that raises is an `error` grade in the run, counted and shown)
        return
    if not isinstance(grade, Grade):
        raise ConfigError(
            f"the grader of {env_id} returned {grade!r:.60}, not a Grade: return Grade.ok(answer), "
            "Grade.wrong(answer) or Grade.unparsable(why) (from score_env)"
        )


def check_env_kwargs(spec: TaskSpec, env_kwargs: dict) -> dict:
    """``env_kwargs`` validated against the task's own arguments: a misspelt key names the allowed ones."""
    wrapper = create_model("EnvArguments", env_kwargs=(spec.arguments(), ...))
    try:
        return wrapper.model_validate({"env_kwargs": env_kwargs}).env_kwargs.model_dump(exclude_unset=True)
    except ValidationError as exc:
        unknown = [e["loc"][-1] for e in exc.errors() if e["type"] == "extra_forbidden"]
        if not unknown:
            raise ConfigError(describe_validation_error(wrapper, exc)) from None
        allowed = list(spec.arguments().model_fields)
        close = difflib.get_close_matches(str(unknown[0]), allowed, n=1, cutoff=0.5)
        raise ConfigError(
            f"unknown env_kwargs key {unknown[0]!r} for {spec.env_id}. Its arguments: {spec.describe_arguments()}."
            + (f" Did you mean {close[0]!r}?" if close else "")
        ) from None


def _looks_local(model: str) -> bool:
    return model.startswith((".", "/", "~")) or model.count("/") > 1


def import_tasks(modules: list[str]) -> None:
    """The user's modules that register tasks or agents (see :func:`score_env.config.imports.import_modules`)."""
    import_modules(modules)
