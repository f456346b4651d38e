"""The built-in correction methods, one module each: its config, its agent, and its :func:`register_agent` call.

This package is loaded like a user's agents are (``score_env.config.agents``): importing it registers every kind.
A new method is its module here, its YAML in ``configs/agents/``, and its name in a preset's ``methods``.
"""

from __future__ import annotations

from score_env.agents import multi_attempt, pag, prompting, score, self_rewarding, sft, star, thinktwice
from score_env.config.agents import build_agent

__all__ = ["build_agent", "multi_attempt", "pag", "prompting", "score", "self_rewarding", "sft", "star", "thinktwice"]
