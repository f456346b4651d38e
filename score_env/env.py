"""The generic self-correction environment: one problem, ``max_attempts`` answers, intrinsic correction."""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym

from score_env.records import Grade, GradeReason, Message, Problem
from score_env.spaces import ChatSpace, FreeText
from score_env.task import Task

Observation = tuple[dict[str, str], ...]
Feedback = Literal["intrinsic", "oracle"]

# Only for feedback="oracle": the comparison setting in which the model is told whether it was right.
ORACLE_WRONG = "Your previous answer is incorrect."
ORACLE_RIGHT = "Your previous answer is correct."


class SelfCorrectionEnv(gym.Env[Observation, str]):
    """A model answers a problem, is shown its answer with a fixed instruction, and answers again.

    ## Description
    The setting of SCoRe (Kumar et al. 2024, "Training Language Models to Self-Correct via Reinforcement
    Learning"): at attempt 1 the model sees the task's first prompt; at every later attempt it sees the whole
    conversation so far followed by the task's correction instruction, which never says whether the previous
    attempt was right (*intrinsic* self-correction). The episode never ends early.

    ## Action Space
    :class:`~score_env.spaces.FreeText`: the model's response, any Unicode string.

    ## Observation Space
    :class:`~score_env.spaces.ChatSpace`: the conversation so far as ``({"role": ..., "content": ...}, ...)``.
    After attempt ``t`` it ends with the attempt (role ``assistant``) and, unless the episode is over, the correction
    instruction (role ``user``). The observation for attempt 2 is identical whether attempt 1 was right or wrong.

    ## Rewards
    Binary: 1.0 when the task's grader accepts the attempt, else 0.0. ``info`` carries the grade: ``correct``,
    ``reason`` (ok / wrong / unparsable / timeout / error), ``extracted`` (the final answer read from the attempt,
    or None), ``detail``, and ``attempt`` (1-based) and ``problem_id``.

    ## Episode End
    ``terminated=True`` after attempt ``max_attempts``; never truncated, never earlier.

    ## Arguments
    - ``task``: a :class:`~score_env.task.Task`.
    - ``max_attempts``: number of attempts (default 2, as in the paper; any number >= 1).
    - ``feedback``: ``"intrinsic"`` (default) or ``"oracle"``, which prefixes the instruction with whether the
      last attempt was right. Oracle feedback is a different setting, kept for comparison only.
    - ``render_mode``: ``None`` or ``"ansi"`` (the conversation as text).

    ``reset(options={"index": i})`` picks problem ``i``; without it the problem is drawn from ``self.np_random``.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012  (Gymnasium's class attribute)

    def __init__(
        self,
        task: Task,
        max_attempts: int = 2,
        feedback: Feedback = "intrinsic",
        render_mode: str | None = None,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if feedback not in ("intrinsic", "oracle"):
            raise ValueError(f"feedback must be 'intrinsic' or 'oracle', got {feedback!r}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.task = task
        self.max_attempts = max_attempts
        self.feedback = feedback
        self.render_mode = render_mode
        self.action_space = FreeText()
        self.observation_space = ChatSpace(max_messages=2 * max_attempts + 2)
        self._problem: Problem | None = None
        self._index = -1
        self._messages: list[Message] = []
        self._attempt = 0

    @property
    def problem(self) -> Problem:
        if self._problem is None:
            raise gym.error.ResetNeeded("call reset() before reading the problem")
        return self._problem

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        super().reset(seed=seed)
        n = len(self.task.problems)
        if options and "index" in options:
            index = options["index"]
            if not isinstance(index, int) or not 0 <= index < n:
                raise ValueError(f"options['index'] must be an int in [0, {n}), got {index!r}")
        else:
            index = int(self.np_random.integers(n))
        self._index = index
        self._problem = self.task.problems[index]
        self._messages = list(self.task.first_prompt(self._problem))
        self._attempt = 0
        return self._observation(), {"problem_id": self._problem.id, "index": index, "attempt": 0}

    def step(self, action: str) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        problem = self.problem
        if self._attempt >= self.max_attempts:
            raise gym.error.ResetNeeded(f"the episode ended after {self.max_attempts} attempts; call reset()")
        if not isinstance(action, str):
            raise TypeError(f"the action is the model's response as a str, got {type(action).__name__}")
        grade = self._grade(problem, action)
        self._attempt += 1
        self._messages.append(Message("assistant", action))
        terminated = self._attempt >= self.max_attempts
        if not terminated:
            self._messages.append(Message("user", self._instruction(grade)))
        info = {**grade.as_info(), "attempt": self._attempt, "problem_id": problem.id}
        return self._observation(), grade.reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m.role}]\n{m.content}" for m in self._messages)

    def _grade(self, problem: Problem, response: str) -> Grade:
        # The grader boundary: a grader that raises becomes a visible `error` grade (counted in the metrics), so a
        # single broken check cannot kill a long run, and is never mistaken for a wrong answer.
        try:
            return self.task.grade(problem, response)
        except Exception as exc:  # noqa: BLE001  (the grader boundary)
            return Grade(False, GradeReason.ERROR, None, f"{type(exc).__name__}: {exc}")

    def _instruction(self, grade: Grade) -> str:
        instruction = self.task.correction_instruction
        if self.feedback == "oracle":
            return f"{ORACLE_RIGHT if grade.correct else ORACLE_WRONG} {instruction}"
        return instruction

    def _observation(self) -> Observation:
        return tuple(m.as_dict() for m in self._messages)
