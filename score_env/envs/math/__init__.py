"""``score/MATH-v0``: competition mathematics, the paper's headline task.

## Description
Problems from MATH (Hendrycks et al., 2021): train on the 12,000-problem split, evaluate on MATH-500, as SCoRe does.
The first prompt and the correction instruction are verbatim from the paper's appendix (``prompt_style="paper"``).

## Action Space
Free text: the model's solution. Its final answer is read from "Final Answer: The final answer is ... I hope it is
correct.", else from the last ``\\boxed{}``.

## Observation Space
The conversation so far as chat messages (see :class:`score_env.env.SelfCorrectionEnv`).

## Rewards
1.0 when math-verify judges the final answer equivalent to the reference (gold first), else 0.0. ``info["reason"]``:
``ok``, ``wrong``, ``unparsable`` (no final answer, or math-verify cannot read it), ``timeout`` (the check ran past
``timeout_s`` in its worker process and was killed), ``error``.

## Episode End
After ``max_attempts`` attempts (default 2); never earlier.

## Arguments
``split`` ("train" = 12k, "test" = MATH-500), ``subjects``, ``levels``, ``path`` (your own JSONL), ``dataset`` (a
Hugging Face name, optional), ``prompt_style`` ("paper" or "boxed"), ``timeout_s`` (per answer, default 5 s),
``max_attempts``, ``feedback``.

## Version History
- v0: initial version.
"""

from __future__ import annotations

from collections.abc import Sequence

from score_env.envs.math.data import load_problems
from score_env.envs.math.grader import DEFAULT_TIMEOUT_S, MathGrader
from score_env.envs.math.prompts import PROMPT_STYLES
from score_env.records import Grade, Problem
from score_env.task import PromptTask


def make_task(
    split: str = "train",
    *,
    subjects: Sequence[str] | None = None,
    levels: Sequence[int] | None = None,
    path: str | None = None,
    dataset: str | None = None,
    prompt_style: str = "paper",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PromptTask:
    """The MATH task (arguments: see the module docstring). It owns its grader's worker processes (started on first
    use): ``close()`` ends them."""
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"prompt_style must be one of {sorted(PROMPT_STYLES)}, got {prompt_style!r}")
    style = PROMPT_STYLES[prompt_style]
    problems = load_problems(split, path=path, dataset=dataset, subjects=subjects, levels=levels)
    grader = MathGrader(timeout_s=timeout_s)  # after the problems: a split that fails to load leaves nothing open

    def grade(problem: Problem, response: str) -> Grade:
        return grader.grade(problem.reference, response)

    return PromptTask(
        name="math",
        problems=problems,
        render_prompt=lambda p: style.first_message(p.question),
        correction_instruction=style.correction_instruction,
        grade_response=grade,
        resources=(grader,),
        family="math",
        reference_response=lambda p: f"Final Answer: The final answer is ${p.reference}$. I hope it is correct.",
    )
