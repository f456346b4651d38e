"""Turning a conversation into the prompt string a causal LM continues."""

from __future__ import annotations

from typing import Any

from score_env.records import Conversation

PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}


def render_plain(conversation: Conversation) -> str:
    """The fallback for tokenizers without a chat template: ``Role: content`` blocks, then ``Assistant:``."""
    turns = [f"{PLAIN_ROLES[m.role]}: {m.content}" for m in conversation]
    return "\n\n".join([*turns, "Assistant:"])


def render_prompt(tokenizer: Any, conversation: Conversation) -> str:
    """Render with the tokenizer's chat template when it has one, else :func:`render_plain`."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [m.as_dict() for m in conversation], tokenize=False, add_generation_prompt=True
        )
    return render_plain(conversation)
