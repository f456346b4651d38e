"""MATH prompts.

The ``paper`` style is verbatim from SCoRe (Kumar et al., 2024), Appendix, as quoted in ``docs/paper.md``
("Prompts"): the zero-shot first prompt and the MATH correction instruction. The ``boxed`` style is for models trained
to put the final answer in ``\\boxed{}``; the grader reads either form.
"""

from __future__ import annotations

from dataclasses import dataclass

# SCoRe, Appendix: MATH first turn (zero-shot).
PAPER_FIRST_PROMPT = (
    "You are a math expert. When you respond, respond only with the Solution of the final Problem, thinking step by "
    "step. At the end of the Solution, when you give your final answer, write it in the form "
    '"Final Answer: The final answer is $answer$. I hope it is correct."'
)
# SCoRe, Appendix: MATH correction instruction.
PAPER_CORRECTION_INSTRUCTION = (
    "There might be an error in the solution above because of lack of understanding of the question. Please correct "
    "the error, if any, and rewrite the solution. Only output the final solution! At the end of the Solution, when "
    'you give your final answer, write it in the form "Final Answer: The final answer is $answer$. I hope it is '
    'correct."'
)

BOXED_FIRST_PROMPT = "Solve the following math problem step by step. Put your final answer within \\boxed{}."
BOXED_CORRECTION_INSTRUCTION = (
    "There might be an error in the solution above because of lack of understanding of the question. Please correct "
    "the error, if any, and rewrite the solution. Put your final answer within \\boxed{}."
)


@dataclass(frozen=True)
class PromptStyle:
    instruction: str  # precedes the problem in the first user message
    correction_instruction: str

    def first_message(self, problem: str) -> str:
        return f"{self.instruction}\n\nProblem:\n{problem}"


PROMPT_STYLES = {
    "paper": PromptStyle(PAPER_FIRST_PROMPT, PAPER_CORRECTION_INSTRUCTION),
    "boxed": PromptStyle(BOXED_FIRST_PROMPT, BOXED_CORRECTION_INSTRUCTION),
}
