"""``python -m score_env.cli``: the ``score-env`` command."""

import sys

from score_env.cli import main

sys.exit(main())
