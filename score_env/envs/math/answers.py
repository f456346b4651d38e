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
_TOKEN = re.compile(r"[^\s$]+")


def extract_final_answer(solution: str) -> str | None:
    """The final answer of ``solution``, or None when it has none."""
    matches = [m.group("answer").strip() for m in _FINAL.finditer(solution)]
    matches = [m.rstrip(".").strip() for m in matches]
    if matches and matches[-1] and matches[-1] not in ("$$", "$answer$"):
        return matches[-1]
    return last_boxed(solution)


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None if there is none.
    Linear in the text: every brace is matched once (a response of many unclosed boxes costs no more than one)."""
    closing: dict[int, int] | None = None
    for match in reversed(list(_BOXED.finditer(text))):
        start = match.end()
        if start < len(text) and text[start] != "{":  # `\boxed 5`: a single token
            token = _TOKEN.match(text, start)
            if token:
                return token.group(0).strip()
            continue
        closing = closing if closing is not None else _closing_braces(text)
        if start in closing:
            return text[start + 1 : closing[start]].strip()
    return None


def _closing_braces(text: str) -> dict[int, int]:
    """Where each brace that opens closes (braces escaped with a backslash are text); unclosed ones are absent."""
    opened, closing = [], {}
    for match in re.finditer(r"(?<!\\)[{}]", text):
        if match.group() == "{":
            opened.append(match.start())
        elif opened:
            closing[opened.pop()] = match.start()
    return closing


def as_latex(answer: str) -> str:
    """Wrap a bare answer in ``$...$`` so math-verify's LaTeX extraction reads all of it."""
    stripped = answer.strip()
    if stripped.startswith("$") or "\\boxed" in stripped:
        return stripped
    return f"${stripped}$"
