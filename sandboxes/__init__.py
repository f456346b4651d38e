"""Untrusted-code execution for code tasks (HumanEval, MBPP).

This package imports nothing from the rest of score-env (enforced by an import-linter contract in CI), so it can
be reviewed and reused on its own. Its backends arrive with the sandboxes-and-code-tasks issue.
"""
