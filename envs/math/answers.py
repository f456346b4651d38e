"""Reading the final answer out of a MATH solution.

Order (issue #3): the text after the last "Final Answer: The final answer is" up to ". I hope it is correct." (or
the end of that line); otherwise the last ``\\boxed{...}`` (balanced braces); otherwise nothing (``unparsable``).
Extracting one final answer before verifying also matters because math-verify reads two boxes as a set.
"""

from __future__ import annotations

import re

_FINAL = re.compile(
    r"(?:Final Answer:\s*)?The final answer is\s*(?P<answer>.*?)\s*(?:\.?\s*I hope it is correct|\n|$)",
    re.IGNORECASE | re.DOTALL,
)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")


def extract_final_answer(solution: str) -> str | None:
    """The final answer of ``solution``, or None when it has none."""
    matches = [m.group("answer").strip() for m in _FINAL.finditer(solution)]
    matches = [m.rstrip(".").strip() for m in matches]
    if matches and matches[-1] and matches[-1] not in ("$$", "$answer$"):
        return matches[-1]
    return last_boxed(solution)


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None if there is none."""
    for match in reversed(list(_BOXED.finditer(text))):
        content = _balanced(text, match.end())
        if content is not None:
            return content.strip()
    return None


def _balanced(text: str, start: int) -> str | None:
    if start >= len(text):
        return None
    if text[start] != "{":  # `\boxed 5`: a single token
        token = re.match(r"[^\s$]+", text[start:])
        return token.group(0) if token else None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None  # unbalanced: not an answer


def as_latex(answer: str) -> str:
    """Wrap a bare answer in ``$...$`` so math-verify's LaTeX extraction reads all of it."""
    stripped = answer.strip()
    if stripped.startswith("$") or "\\boxed" in stripped:
        return stripped
    return f"${stripped}$"
