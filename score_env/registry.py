"""The catalogue of self-correction envs: ``gymnasium.register`` under ``score/`` plus CLI short names.

Registering a task (see README, "Register your own task")::

    register_task("score/Capitals-v0", make_capitals_task, short_name="capitals",
                  description="Capital cities, graded by exact match")
    env = gymnasium.make("score/Capitals-v0", split="test")  # owns its task: env.close() closes it

``make_task(split=..., **kwargs)`` returns a :class:`~score_env.task.Task`; it may also be given as a
``"module:function"`` string so the catalogue reads like Gymnasium's own.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import gymnasium as gym
from pydantic import BaseModel, ConfigDict, create_model

from score_env.env import Feedback, SelfCorrectionEnv, Stop, check_episode_settings
from score_env.task import Task

TaskFactory = Callable[..., Task]
NAMESPACE = "score"


@dataclass(frozen=True)
class TaskSpec:
    """A registered task env."""

    env_id: str
    short_name: str
    description: str
    splits: tuple[str, ...]
    make_task: TaskFactory | str = field(repr=False, default="")

    def arguments(self) -> type[BaseModel]:
        """The task's arguments (``env_kwargs``) as a pydantic model read off the factory's signature: every keyword
        but ``split``, with its type hint and default; unknown keys are refused."""
        factory = _load(self.make_task) if isinstance(self.make_task, str) else self.make_task
        hints = typing.get_type_hints(factory)
        fields: dict[str, Any] = {
            name: (hints.get(name, Any), ... if p.default is p.empty else p.default)
            for name, p in inspect.signature(factory).parameters.items()
            if name != "split" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        return create_model(f"{self.short_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)

    def describe_arguments(self) -> str:
        """``name: type = default, ...``: what ``score-env envs`` shows and what a bad ``env_kwargs`` key is told."""
        parts = []
        for name, field_ in self.arguments().model_fields.items():
            kind = _type_name(field_.annotation)
            parts.append(f"{name}: {kind}" + ("" if field_.is_required() else f" = {field_.default!r}"))
        return ", ".join(parts) or "none"


_SPECS: dict[str, TaskSpec] = {}


class UnknownNameError(ValueError):
    """A name that is not in a catalogue; the message lists the allowed names and the closest one."""

    def __init__(self, what: str, name: str, allowed: list[str]):
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown {what} {name!r}. Allowed: {', '.join(allowed)}.{hint}")
        self.name, self.allowed = name, allowed


def register_task(
    env_id: str,
    make_task: TaskFactory | str,
    *,
    short_name: str,
    description: str,
    splits: tuple[str, ...] = ("train", "test"),
    max_attempts: int = 2,
) -> TaskSpec:
    """Register a task as the Gymnasium env ``env_id`` (``score/<Name>-v<N>``)."""
    if not env_id.startswith(f"{NAMESPACE}/"):
        raise ValueError(f"env ids live in the {NAMESPACE!r} namespace (score/<Name>-v0), got {env_id!r}")
    taken = {s.short_name: s.env_id for s in _SPECS.values() if s.env_id != env_id}
    if short_name in taken:
        raise ValueError(f"short name {short_name!r} is already used by {taken[short_name]}")
    gym.register(
        id=env_id,
        entry_point=make_env,
        kwargs={"make_task": make_task, "split": splits[0], "max_attempts": max_attempts},
        disable_env_checker=True,  # our own test suite runs the full check_env over the registry
    )
    spec = TaskSpec(env_id, short_name, description, tuple(splits), make_task)
    _SPECS[env_id] = spec
    return spec


def make_env(
    make_task: TaskFactory | str,
    split: str,
    max_attempts: int = 2,
    feedback: Feedback = "intrinsic",
    stop: Stop = "fixed",
    render_mode: str | None = None,
    **task_kwargs: Any,
) -> SelfCorrectionEnv:
    """Gymnasium entry point: build the task for ``split``, then the env around it, which owns it (``env.close()``
    closes the task)."""
    check_episode_settings(max_attempts, feedback, stop)  # before building a task for nothing
    task = build_task(make_task, split, task_kwargs)
    return SelfCorrectionEnv(
        task, max_attempts=max_attempts, feedback=feedback, stop=stop, render_mode=render_mode, owns_task=True
    )


def build_task(make_task: TaskFactory | str, split: str, task_kwargs: Mapping[str, Any]) -> Task:
    factory = _load(make_task) if isinstance(make_task, str) else make_task
    return factory(split=split, **task_kwargs)


@dataclass(frozen=True)
class EnvFactory:
    """Envs of one registered task and split, all around one task: a run's.

    An EnvFactory is first a description (picklable: what a run's config records and a worker process gets).
    ``open()`` builds the task once and returns the same factory holding it, the run's to close::

        with factory.open() as envs:  # the task, its grader, sandbox and judges: built here
            env = envs(max_attempts=2)  # a fresh env on that task (closing it leaves the task open)
            ...
        # closed here: no grader, judge or sandbox process is left

    ``dataclasses.replace(envs, feedback=..., stop=...)`` makes other episodes on the same task (closed with it).
    """

    env_id: str
    split: str
    feedback: Feedback = "intrinsic"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    stop: Stop = "fixed"
    task: Task | None = field(default=None, compare=False, repr=False)  # set by open(): the run's task

    def open(self) -> EnvFactory:
        """This factory with its task built; close it (or leave a ``with`` block) when the run is over."""
        if self.task is not None:
            raise RuntimeError(f"this {self.env_id} factory is open already: its task belongs to whoever opened it")
        task = build_task(resolve_env(self.env_id).make_task, self.split, self.kwargs)
        return replace(self, task=task)

    def close(self) -> None:
        """Close the task (its grader's processes, sandboxes, judges); an unopened factory has nothing to close."""
        if self.task is not None:
            self.task.close()

    def __enter__(self) -> EnvFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, max_attempts: int = 2) -> SelfCorrectionEnv:
        """A fresh env on the open factory's task."""
        if self.task is None:
            raise RuntimeError(f"open the {self.env_id} factory first: `with factory.open() as envs: envs(2)`")
        return SelfCorrectionEnv(self.task, max_attempts=max_attempts, feedback=self.feedback, stop=self.stop)

    @cached_property
    def n_problems(self) -> int:
        """Problems in the split (an unopened factory builds its task to count them, and closes it)."""
        if self.task is not None:
            return len(self.task.problems)
        with self.open() as envs:
            return envs.n_problems

    def __getstate__(self) -> dict[str, Any]:
        if self.task is not None:  # its processes cannot travel: another process opens the description itself
            raise TypeError(f"an open {self.env_id} factory cannot be pickled; pass the unopened one")
        return dict(self.__dict__)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("collections.abc.", "").replace("typing.", "")


def registered_tasks() -> list[TaskSpec]:
    """Every registered task env, sorted by id."""
    return sorted(_SPECS.values(), key=lambda s: s.env_id)


def resolve_env(name: str) -> TaskSpec:
    """Find a task env by id (``score/Arithmetic-v0``) or short name (``arithmetic``)."""
    for spec in _SPECS.values():
        if name in (spec.env_id, spec.short_name):
            return spec
    allowed = [s.short_name for s in registered_tasks()] + [s.env_id for s in registered_tasks()]
    raise UnknownNameError("env", name, allowed)


def _load(path: str) -> TaskFactory:
    module, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"a task factory path is 'module:function', got {path!r}")
    return getattr(importlib.import_module(module), attr)
