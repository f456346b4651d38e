"""What a task is: problems, a first prompt, a correction instruction, a grader, and ``close()``.

A task is anything with these members (a ``Protocol``, no base class). :class:`PromptTask` is the few-line way to
define one; the registered envs in ``envs/`` build theirs the same way.

A task owns what its grader holds open (worker processes, a sandbox, judges): it is built once per run (the run's
:class:`~score_env.registry.EnvFactory`, or ``gymnasium.make``'s env) and closed by whoever built it when the run is
over, never by a module-level pool at exit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from score_env.records import Conversation, Grade, Message, Problem


class TaskError(ValueError):
    """A user's task broke a rule of the Task protocol (a grader that returns something other than a Grade): the
    commands print it as one line and exit 2."""


@runtime_checkable
class Task(Protocol):
    """A set of problems with a first prompt, a correction instruction and a grader."""

    name: str
    problems: Sequence[Problem]
    correction_instruction: str  # the fixed user turn before every attempt after the first (docs/paper.md, "Prompts")

    def first_prompt(self, problem: Problem) -> Conversation:
        """The messages the model answers at attempt 1."""
        ...

    def grade(self, problem: Problem, response: str) -> Grade:
        """Grade one attempt. Must not raise on any model output: bad output is ``unparsable`` or ``wrong``."""
        ...

    def close(self) -> None:
        """Release what the task holds (a grader's workers, a sandbox, judges); nothing to release: do nothing. Its
        owner calls it once the run is over; closing twice is harmless."""
        ...


@runtime_checkable
class ResolvesArguments(Protocol):
    """A task that resolves a choice among its arguments when built (a code task's ``sandbox="auto"``)."""

    def resolved_arguments(self) -> Mapping[str, Any]:
        """The values it chose, by argument name: what a run's config records instead of the choice."""
        ...


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class PromptTask:
    """A task from plain parts: the usual way to define one.

    Example:
        >>> task = PromptTask(
        ...     name="capitals",
        ...     problems=[Problem("fr", "What is the capital of France?", "Paris")],
        ...     render_prompt=lambda p: p.question + " Answer in one word.",
        ...     correction_instruction="There might be an error above. Answer again in one word.",
        ...     grade_response=lambda p, text: Grade.ok(text) if text.strip() == p.reference else Grade.wrong(text),
        ... )

    A grader that holds processes (MATH's worker pool) goes in ``resources``: ``close()`` closes them.
    """

    name: str
    problems: Sequence[Problem]
    render_prompt: Callable[[Problem], str]  # the first user message
    correction_instruction: str
    grade_response: Callable[[Problem, str], Grade]
    system_prompt: str | None = None
    resources: tuple[Closeable, ...] = ()  # what grade_response holds open; the task closes them
    # What ``score-env validate`` uses (all optional): the answers' family, whose canaries apply ("math", "code",
    # "arithmetic"); a response to a problem that must earn 1 (None: the task has none); answers that must earn 0.
    family: str | None = None
    reference_response: Callable[[Problem], str | None] | None = None
    canaries: Sequence[str] | Callable[[Problem], Sequence[str]] = ()

    def __post_init__(self) -> None:
        if not self.problems:
            raise ValueError(f"task {self.name!r} has no problems")

    def first_prompt(self, problem: Problem) -> Conversation:
        user = Message("user", self.render_prompt(problem))
        return (Message("system", self.system_prompt), user) if self.system_prompt else (user,)

    def grade(self, problem: Problem, response: str) -> Grade:
        return self.grade_response(problem, response)

    def close(self) -> None:
        for resource in self.resources:
            resource.close()
