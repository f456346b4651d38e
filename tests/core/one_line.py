"""The rule every user mistake follows on the command line: exit 2, one line, no traceback."""

from __future__ import annotations

from score_env.cli import main


def one_line_error(argv, message, capsys):
    """Run ``score-env <argv>``; assert exit 2 and a single line holding ``message``; return stderr."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("run directory")]
    assert message in err, err
    assert "Traceback" not in err and len(lines) == 1, err
    return err
