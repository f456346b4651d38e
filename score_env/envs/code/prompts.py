"""Code prompts: HumanEval zero-shot, MBPP 3-shot, and the paper's code correction instruction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# SCoRe, Appendix (docs/paper.md, "Prompts"): the code correction instruction, written as a Python comment.
CODE_CORRECTION_INSTRUCTION = (
    "# There might be an error in the code above because of lack of understanding of the question. Please correct "
    "the error, if any, and rewrite the solution. Only output the final correct Python program!"
)

HUMANEVAL_INSTRUCTION = (
    "Complete the following Python function. Respond with the whole function (and any imports it needs) in a "
    "```python code block."
)


def humaneval_prompt(prompt: str) -> str:
    """Zero-shot: the instruction, then the signature and docstring."""
    return f"{HUMANEVAL_INSTRUCTION}\n\n```python\n{prompt.rstrip()}\n```"


def mbpp_task(text: str, tests: Sequence[str]) -> str:
    """One MBPP task in the standard prompt format (Austin et al., 2021)."""
    return (
        f"You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n"
        + ("\n".join(tests))
    )


def mbpp_prompt(text: str, tests: Sequence[str], shots: Sequence[Mapping[str, Any]]) -> str:
    """The standard 3-shot MBPP prompt: tasks 2, 3, 4 with their solutions between [BEGIN] and [DONE]."""
    examples = [f"{mbpp_task(s['text'], s['test_list'])}\n[BEGIN]\n{s['code'].strip()}\n[DONE]" for s in shots]
    return "\n\n".join([*examples, f"{mbpp_task(text, tests)}\n[BEGIN]"])
