"""The generic self-correction environment: one problem, ``max_attempts`` answers, intrinsic correction."""

from __future__ import annotations

import re
from typing import Any, Literal

import gymnasium as gym

from score_env.records import Grade, GradeReason, Message, Problem
from score_env.spaces import ChatSpace, FreeText
from score_env.task import Task, TaskError

Observation = tuple[dict[str, str], ...]
Feedback = Literal["intrinsic", "oracle"]
Stop = Literal["fixed", "model_decides", "on_correct"]

# Only for feedback="oracle": the comparison setting in which the model is told whether it was right.
ORACLE_WRONG = "Your previous answer is incorrect."
ORACLE_RIGHT = "Your previous answer is correct."
# For stop="model_decides", when the task has no verification instruction of its own.
VERIFY_INSTRUCTION = "Check the solution above. End with 'Verdict: correct' if it is right, or 'Verdict: wrong'."
_VERDICT = re.compile(r"verdict\s*:\s*(correct|wrong)", re.IGNORECASE)


def read_verdict(response: str) -> Literal["correct", "wrong"] | None:
    """The last ``Verdict: correct|wrong`` of a self-verdict, or None (unparsable; the env treats it as wrong)."""
    found = _VERDICT.findall(response)
    return found[-1].lower() if found else None  # type: ignore[return-value]


class SelfCorrectionEnv(gym.Env[Observation, str]):
    """A model answers a problem, is shown its answer with a fixed instruction, and answers again.

    ## Description
    The setting of SCoRe (Kumar et al. 2024, "Training Language Models to Self-Correct via Reinforcement
    Learning"): at attempt 1 the model sees the task's first prompt; at every later attempt it sees the whole
    conversation so far followed by the task's correction instruction, which never says whether the previous
    attempt was right (*intrinsic* self-correction). With ``stop="model_decides"`` (verify-then-revise, as in PAG)
    the model first judges its own attempt; it revises only when its own verdict says "wrong".

    ## Action Space
    :class:`~score_env.spaces.FreeText`: the model's response, any Unicode string: an attempt, or (with
    ``stop="model_decides"``, after the verification instruction) a self-verdict ending with ``Verdict: correct`` or
    ``Verdict: wrong``.

    ## Observation Space
    :class:`~score_env.spaces.ChatSpace`: the conversation so far as ``({"role": ..., "content": ...}, ...)``.
    It ends with the model's last response and, unless the episode is over, the next instruction (role ``user``).
    In the intrinsic setting what follows an attempt is identical whether it was right or wrong.

    ## Rewards
    An attempt: 1.0 when the task's grader accepts it, else 0.0. A self-verdict: 1.0 when it is right about the
    attempt it judged (``correct`` for a right attempt, ``wrong`` for a wrong one), else 0.0; an unparsable verdict
    earns 0 and counts as ``wrong``. ``info`` carries the grade (``correct``, ``reason``, ``extracted``, ``detail``),
    ``turn`` (``attempt`` or ``verdict``), ``attempt`` (1-based: the attempt made or judged) and ``problem_id``.

    ## Episode End
    ``terminated=True`` after attempt ``max_attempts``; earlier only when ``stop`` says so: ``model_decides``, when
    the model's own verdict says ``correct`` (never on the grader's verdict: nothing leaks); ``on_correct`` (oracle
    track, ``feedback="oracle"`` only), at the first right attempt. Never truncated.

    ## Arguments
    - ``task``: a :class:`~score_env.task.Task`.
    - ``max_attempts``: number of attempts (default 2, as in the paper; any number >= 1).
    - ``feedback``: ``"intrinsic"`` (default) or ``"oracle"``, which prefixes the instruction with whether the
      last attempt was right. Oracle feedback is a different setting, kept apart from the intrinsic results.
    - ``stop``: ``"fixed"`` (default: always ``max_attempts``), ``"model_decides"`` or ``"on_correct"`` (above).
    - ``render_mode``: ``None`` or ``"ansi"`` (the conversation as text).
    - ``owns_task``: ``close()`` closes the task too (``gymnasium.make`` builds one task per env); False (default)
      where the task is a run's, closed by the run (:class:`~score_env.registry.EnvFactory`).

    ``reset(options={"index": i})`` picks problem ``i``; without it the problem is drawn from ``self.np_random``.

    ## Version History
    - v0: initial version; ``stop`` added without changing the default behaviour.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012  (Gymnasium's class attribute)

    def __init__(
        self,
        task: Task,
        max_attempts: int = 2,
        feedback: Feedback = "intrinsic",
        stop: Stop = "fixed",
        render_mode: str | None = None,
        owns_task: bool = False,
    ):
        check_episode_settings(max_attempts, feedback, stop)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.task, self.max_attempts, self.feedback, self.stop = task, max_attempts, feedback, stop
        self.render_mode = render_mode
        self.owns_task = owns_task
        self.action_space = FreeText()
        self.observation_space = ChatSpace(max_messages=4 * max_attempts + 2)
        self._problem: Problem | None = None
        self._index = -1
        self._messages: list[Message] = []
        self._attempt = 0
        self._judging: Grade | None = None  # the grade of the attempt the model is asked to judge, while it is
        self._over = False

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
        self._index, self._problem = index, self.task.problems[index]
        self._messages = list(self.task.first_prompt(self._problem))
        self._attempt, self._judging, self._over = 0, None, False
        return self._observation(), {"problem_id": self._problem.id, "index": index, "attempt": 0}

    def step(self, action: str) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        problem = self.problem
        if self._over:
            raise gym.error.ResetNeeded(f"the episode ended after {self._attempt} attempts; call reset()")
        if not isinstance(action, str):
            raise TypeError(f"the action is the model's response as a str, got {type(action).__name__}")
        self._messages.append(Message("assistant", action))
        if self._judging is not None:
            return self._verdict_step(problem, action, self._judging)
        grade = self._grade(problem, action)
        self._attempt += 1
        terminated = self._attempt >= self.max_attempts or (self.stop == "on_correct" and grade.correct)
        if not terminated:
            if self.stop == "model_decides":
                self._judging = grade
                self._messages.append(
                    Message("user", getattr(self.task, "verification_instruction", None) or VERIFY_INSTRUCTION)
                )
            else:
                self._messages.append(Message("user", self._instruction(grade)))
        self._over = terminated
        info = {**grade.as_info(), "turn": "attempt", "attempt": self._attempt, "problem_id": problem.id}
        return self._observation(), grade.reward, terminated, False, info

    def _verdict_step(
        self, problem: Problem, action: str, judged: Grade
    ) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        """The model's verdict on its own last attempt: ``correct`` ends the episode, anything else revises. What
        happens next depends on the verdict's text alone, never on ``judged`` (the grader's view)."""
        said = read_verdict(action)
        self._judging = None
        grade = verdict_grade(said, judged)
        self._over = said == "correct"
        if not self._over:
            self._messages.append(Message("user", self.task.correction_instruction))
        info = {**grade.as_info(), "turn": "verdict", "attempt": self._attempt, "problem_id": problem.id}
        return self._observation(), grade.reward, self._over, False, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m.role}]\n{m.content}" for m in self._messages)

    def close(self) -> None:
        if self.owns_task:
            self.task.close()

    def _grade(self, problem: Problem, response: str) -> Grade:
        # The grader boundary: a grader that raises becomes a visible `error` grade (counted in the metrics), so a
        # single broken check cannot kill a long run, and is never mistaken for a wrong answer.
        try:
            grade = self.task.grade(problem, response)
        except Exception as exc:  # noqa: BLE001  (the grader boundary)
            return Grade(False, GradeReason.ERROR, None, f"{type(exc).__name__}: {exc}")
        if not isinstance(grade, Grade):  # the task's own mistake, the same for every response: stop, say which rule
            where = getattr(self.task.grade, "__qualname__", type(self.task).__name__)
            raise TaskError(
                f"the grader of task {getattr(self.task, 'name', '?')!r} ({where}) returned {grade!r:.80}, not a "
                "Grade: return Grade.ok(answer), Grade.wrong(answer) or Grade.unparsable(why) (from score_env)"
            )
        return grade

    def _instruction(self, grade: Grade) -> str:
        instruction = self.task.correction_instruction
        if self.feedback == "oracle":
            return f"{ORACLE_RIGHT if grade.correct else ORACLE_WRONG} {instruction}"
        return instruction

    def _observation(self) -> Observation:
        return tuple(m.as_dict() for m in self._messages)


def check_episode_settings(max_attempts: int, feedback: str, stop: str) -> None:
    """The combinations that mean something: ``on_correct`` only tells the episode to end at the right answer,
    which is oracle information; ``model_decides`` is the intrinsic verify-then-revise setting."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    if feedback not in ("intrinsic", "oracle"):
        raise ValueError(f"feedback must be 'intrinsic' or 'oracle', got {feedback!r}")
    if stop not in ("fixed", "model_decides", "on_correct"):
        raise ValueError(f"stop must be 'fixed', 'model_decides' or 'on_correct', got {stop!r}")
    if stop == "on_correct" and feedback != "oracle":
        raise ValueError("stop='on_correct' ends the episode on the grader's verdict: only with feedback='oracle'")
    if stop == "model_decides" and feedback != "intrinsic":
        raise ValueError("stop='model_decides' is the intrinsic verify-then-revise setting: feedback='intrinsic'")


def verdict_grade(said: str | None, judged: Grade) -> Grade:
    """A self-verdict graded against the truth about the attempt it judged (unparsable: no reward)."""
    if said is None:
        return Grade.unparsable("no 'Verdict: correct' or 'Verdict: wrong' in the response")
    if judged.reason is GradeReason.ERROR:  # the attempt's grade failed: nothing to judge the verdict by
        return Grade(False, GradeReason.ERROR, said, "the judged attempt was graded 'error'")
    right = (said == "correct") == judged.correct
    return Grade.ok(said) if right else Grade.wrong(said)
