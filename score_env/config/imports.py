"""Importing the user's modules that register tasks or agents (``import=my_tasks`` or ``import=path/to/file.py``),
and every installed package's ``score_env.tasks`` entry point. Done as a config loads, before any name in it is
looked up, so an agent or task a user's module registers can be named in the same command."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from score_env.config.errors import ConfigError

TASK_ENTRY_POINTS = "score_env.tasks"


def import_modules(modules: Sequence[str]) -> None:
    """Import ``modules`` (names or ``.py`` paths) and the installed task packages. The working directory is
    searched first, as ``python -m`` would, so a module next to the user's command is found by the console script."""
    for entry in importlib.metadata.entry_points(group=TASK_ENTRY_POINTS):
        entry.load()
    if modules and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in modules:
        path = Path(name).expanduser()
        try:
            if path.suffix == ".py":
                _import_file(name, path)
            else:
                importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"import={name!r}: {exc} (looked in {os.getcwd()} and the installed packages; a file path ending "
                "in .py works too)"
            ) from None
        except SyntaxError as exc:
            raise ConfigError(f"import={name!r}: a syntax error at {exc.filename}:{exc.lineno}: {exc.msg}") from None
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001  (the user's module: whatever it raises is named, with where)
            raise ConfigError(f"import={name!r} raised {type(exc).__name__}: {exc} ({_where(exc)})") from None


def _import_file(name: str, path: Path) -> None:
    if not path.is_file():
        raise ConfigError(f"import={name!r}: no such file")
    if path.stem in sys.modules and getattr(sys.modules[path.stem], "__file__", None) == str(path.resolve()):
        return  # imported already (a config loads once per command, the run imports again): register once
    spec = importlib.util.spec_from_file_location(path.stem, path.resolve())
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]


def _where(error: BaseException) -> str:
    """The last line of the user's own code the error passed through (``file:line``)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "importlib" not in f.filename]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "while importing"
