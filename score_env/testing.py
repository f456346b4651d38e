"""Helpers for users' own test suites.

``assert_valid_env`` runs ``score-env validate``'s battery (``score_env.validate``) on a small sample and fails the
test with the table when a check fails::

    from score_env.testing import assert_valid_env

    def test_my_task_rewards_only_what_it_should():
        assert_valid_env("score/MyTask-v0", import_="my_tasks")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from score_env.validate import validate_env
from score_env.validation import ValidationReport, table


def assert_valid_env(
    env: str,
    *,
    import_: str | Sequence[str] = (),
    problems: int = 2,
    split: str | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
    limit_s: float | None = None,
) -> ValidationReport:
    """Validate ``env`` on ``problems`` problems; raise ``AssertionError`` with the table if any check fails, else
    return the report. ``import_``: the module(s) that register the env (``import=`` on the command line)."""
    from score_env import api  # noqa: F401  (registers the built-in envs)

    imports = [import_] if isinstance(import_, str) else list(import_)
    report = validate_env(env, split=split, problems=problems, env_kwargs=env_kwargs, imports=imports, seed=seed,
                          limit_s=limit_s, say=lambda _: None)  # fmt: skip
    if not report.passed:
        failing = ", ".join(c.name for c in report.failing())
        raise AssertionError(f"{report.env_id} failed score-env validate ({failing}):\n" + "\n".join(table(report)))
    return report
