"""verifiers, whichever API the installed release has: ``MultiTurnEnv`` (0.2.1-0.3.x, ``verifiers_legacy_driver``) or
the v1 stack alone (0.4, ``verifiers_v1_driver``). ``.ci/adapters.sh`` runs the suite under both."""

from __future__ import annotations

import verifiers

if hasattr(verifiers, "MultiTurnEnv"):
    from tests.adapters.drivers.verifiers_legacy_driver import play
else:
    from tests.adapters.drivers.verifiers_v1_driver import play

__all__ = ["play"]
