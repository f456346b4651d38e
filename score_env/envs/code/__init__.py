"""Code tasks: ``score/HumanEval-v0`` and ``score/MBPP-v0``. Programs run in a sandbox, the tests in a judge outside it.

## Description
HumanEval (164 problems, zero-shot; the paper evaluates on it) and MBPP (974 tasks; standard splits by task id:
prompt 1-10, test 11-510, validation 511-600, train 601-974; 3-shot prompt with tasks 2, 3, 4; the paper trains on
it). The correction instruction is the paper's code instruction, verbatim, written as a Python comment.

## Action Space
Free text: the program, in a markdown fence or raw (MBPP: before ``[DONE]``).

## Observation Space
The conversation so far as chat messages (see :class:`score_env.env.SelfCorrectionEnv`).

## Rewards
1.0 when every test passes, else 0.0. The program runs in a sandbox of :mod:`sandboxes` and answers calls; the tests
run in a judge process that never runs the program's code and decides (:mod:`envs.code.grading`). ``info["reason"]``:
``ok``, ``wrong`` (a test failed, the code crashed, or it hit the memory or output limit), ``unparsable`` (no code, or
code that is not Python), ``timeout`` (CPU time or the wall clock), ``error`` (the sandbox or the judge failed: ours,
never the model's; ``info["detail"]`` says what). ``info["sandbox"]``: the backend that ran the code.

## Episode End
After ``max_attempts`` attempts (default 2); never earlier.

## Arguments
``split``, ``sandbox`` ("auto": bwrap, else docker, else an error; "bwrap", "docker", or "process", an explicit
opt-in without namespaces), ``timeout_s`` (CPU seconds per attempt, default 10; the wall clock allows 3x + 5 s),
``memory_mb`` (default 512), ``max_attempts``, ``feedback``. The task's ``sandbox`` attribute names the backend
``auto`` chose.

## Version History
- v0: initial version.
"""

from __future__ import annotations

from score_env.envs.code.tasks import make_humaneval_task, make_mbpp_task

__all__ = ["make_humaneval_task", "make_mbpp_task"]
