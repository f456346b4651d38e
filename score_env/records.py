"""Frozen records that travel between the env, the rollout loop, metrics and the run directory.

Gymnasium's ``info`` dict is converted to a :class:`Grade` at the boundary (:meth:`Grade.from_info`); after that
only these typed records move around.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    """One chat message, as chat templates expect it."""

    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}

    @staticmethod
    def from_dict(message: Mapping[str, str]) -> Message:
        role = message["role"]
        if role not in ROLES:
            raise ValueError(f"message role must be one of {ROLES}, got {role!r}")
        return Message(role=role, content=message["content"])  # type: ignore[arg-type]


Conversation = tuple[Message, ...]


def to_conversation(messages: Sequence[Mapping[str, str]]) -> Conversation:
    """Convert an env observation (a tuple of role/content dicts) to typed messages."""
    return tuple(Message.from_dict(m) for m in messages)


class GradeReason(StrEnum):
    """Why an attempt got its reward. Only ``OK`` means correct."""

    OK = "ok"
    WRONG = "wrong"
    UNPARSABLE = "unparsable"  # no final answer could be extracted from the attempt
    TIMEOUT = "timeout"  # the program under test, or the grader on its output, ran past a time limit
    MEMORY = "memory"  # the program under test, or the grader on its output, ran past a memory limit
    INVALID = "invalid"  # the attempt's output broke the grader's protocol or bounds (its failure, not ours)
    ERROR = "error"  # the grader itself failed, in a way no attempt can cause; `detail` says how (never silently a 0)


@dataclass(frozen=True)
class Grade:
    """The verdict on one attempt."""

    correct: bool
    reason: GradeReason
    extracted: str | None  # the final answer read from the attempt, None when unparsable
    detail: str = ""  # free text for humans: the error message, the failing test, ...
    sandbox: str = ""  # the sandbox backend that ran the attempt's code ("bwrap", "docker", "process"); "" if none

    def __post_init__(self) -> None:
        if self.correct != (self.reason is GradeReason.OK):
            raise ValueError(f"a grade is correct exactly when its reason is 'ok', got {self}")

    @property
    def reward(self) -> float:
        """The paper's binary reward r(y, y*)."""
        return 1.0 if self.correct else 0.0

    def as_info(self) -> dict[str, Any]:
        info = {
            "correct": self.correct,
            "reason": self.reason.value,
            "extracted": self.extracted,
            "detail": self.detail,
        }
        if self.sandbox:  # only code tasks run a sandbox: the info of the others is unchanged
            info["sandbox"] = self.sandbox
        return info

    @staticmethod
    def from_info(info: Mapping[str, Any]) -> Grade:
        return Grade(
            correct=bool(info["correct"]),
            reason=GradeReason(info["reason"]),
            extracted=info["extracted"],
            detail=info.get("detail", ""),
            sandbox=info.get("sandbox", ""),
        )

    @staticmethod
    def ok(extracted: str) -> Grade:
        return Grade(True, GradeReason.OK, extracted)

    @staticmethod
    def wrong(extracted: str, detail: str = "") -> Grade:
        return Grade(False, GradeReason.WRONG, extracted, detail)

    @staticmethod
    def unparsable(detail: str = "") -> Grade:
        return Grade(False, GradeReason.UNPARSABLE, None, detail)


@dataclass(frozen=True)
class Problem:
    """One task instance: what the model is asked and what it is graded against."""

    id: str
    question: str
    reference: str  # the gold final answer (MATH, arithmetic) or the test program (code)
    metadata: Mapping[str, str | int] = field(default_factory=dict)  # subject, level, ...


@dataclass(frozen=True)
class Completion:
    """One sampled response. ``logprobs[i]`` is log p(token_ids[i]) under the model at temperature 1."""

    text: str
    token_ids: tuple[int, ...]  # [T] the generated tokens, without the prompt, EOS included if emitted
    logprobs: tuple[float, ...]  # [T] per-token log-probabilities of `token_ids`
    finish_reason: Literal["stop", "length"]
    prompt_ids: tuple[int, ...] = ()  # [S] the tokens the policy generated from (unpadded); () when it cannot say


@dataclass(frozen=True)
class Attempt:
    """One turn of an episode: what the model saw, what it wrote, and how it was graded."""

    prompt: Conversation  # the conversation the model answered
    text: str
    token_ids: tuple[int, ...]  # [T]
    logprobs: tuple[float, ...]  # [T]
    finish_reason: Literal["stop", "length"]
    reward: float
    grade: Grade
    from_base: bool = False  # sampled from the base model, not the policy (SCoRe's optional mixing): no loss on it
    prompt_ids: tuple[int, ...] = ()  # [S] the policy's tokens of `prompt` (not written to JSON; () = unknown)


@dataclass(frozen=True)
class Episode:
    """All attempts at one problem by one sample stream (and, in verify-then-revise, the model's self-verdicts:
    ``verdicts[i]`` judges ``attempts[i]``)."""

    problem_id: str
    problem_index: int
    sample: int  # which of the k samples of this problem
    attempts: tuple[Attempt, ...]
    verdicts: tuple[Attempt, ...] = ()  # self-verdict turns; their grade says whether the verdict was right

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (one line of ``episodes.jsonl``). Prompt token ids are for the learner, not kept."""
        data = asdict(self)
        for turn in [*data["attempts"], *data["verdicts"]]:
            del turn["prompt_ids"]
        if not data["verdicts"]:
            del data["verdicts"]
        return data

    @property
    def turns(self) -> tuple[Attempt, ...]:
        """Every response of the episode in the order it was given: attempt 1, its verdict, attempt 2, ..."""
        order = [(i, 0, a) for i, a in enumerate(self.attempts)] + [(i, 1, v) for i, v in enumerate(self.verdicts)]
        return tuple(turn for *_, turn in sorted(order, key=lambda x: x[:2]))

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Episode:
        attempts = tuple(_attempt_from_json(a) for a in data["attempts"])
        verdicts = tuple(_attempt_from_json(v) for v in data.get("verdicts", ()))
        return Episode(data["problem_id"], data["problem_index"], data["sample"], attempts, verdicts)


def _attempt_from_json(a: Mapping[str, Any]) -> Attempt:
    return Attempt(
        prompt=tuple(Message.from_dict(m) for m in a["prompt"]),
        text=a["text"],
        token_ids=tuple(a["token_ids"]),
        logprobs=tuple(a["logprobs"]),
        finish_reason=a["finish_reason"],
        reward=a["reward"],
        grade=Grade.from_info(a["grade"]),
        from_base=a.get("from_base", False),
    )


@dataclass(frozen=True)
class EpisodeGroup:
    """The k episodes of one problem, played from the same first prompt: the group RLOO's baseline averages over.

    k is the length of ``episodes`` (a property of the data, not a separate argument).
    """

    problem_id: str
    problem_index: int
    episodes: tuple[Episode, ...]

    def __post_init__(self) -> None:
        if not self.episodes or any(e.problem_index != self.problem_index for e in self.episodes):
            raise ValueError(f"a group holds one or more episodes of problem {self.problem_index}")


def flatten(groups: Sequence[EpisodeGroup]) -> list[Episode]:
    """The episodes of ``groups``, group after group."""
    return [episode for group in groups for episode in group.episodes]
