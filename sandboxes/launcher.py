"""The first code that runs inside the bwrap sandbox: set rlimits, then ``exec`` the real program.

The program runs as ``python -I -S`` on every backend: isolated from the environment, the standard library only.

Setting limits here, in the child, avoids ``preexec_fn`` (unsafe when the parent has threads, and the rollout loop
grades in threads). ``nproc`` of 0 leaves RLIMIT_NPROC alone (under bwrap it makes sandbox starts fail at random:
issue #4). The process backend has its own launcher, :mod:`sandboxes.confine`.
"""

import shutil

from score_env.sandboxes.result import Limits

LAUNCHER = """
import os, resource, sys
memory_mb, cpu_soft, cpu_hard, file_mb, nproc = (int(a) for a in sys.argv[1:6])
def cap(limit, soft, hard=None):
    resource.setrlimit(limit, (soft, soft if hard is None else hard))
cap(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
cap(resource.RLIMIT_CPU, cpu_soft, cpu_hard)
cap(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
cap(resource.RLIMIT_CORE, 0)
cap(resource.RLIMIT_NOFILE, 256)
if nproc:
    cap(resource.RLIMIT_NPROC, nproc)
os.execv(sys.executable, [sys.executable, "-I", "-S", sys.argv[6]])
"""


PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin")


def launcher_argv(python: str, program_path: str, limits: Limits, *, nproc: int) -> list[str]:
    """The command that sets the rlimits and runs ``program_path``.

    util-linux's ``prlimit`` (a small C program that sets limits on itself and execs) where installed: it saves a
    second interpreter start (~7 ms a run); the Python launcher above otherwise.
    """
    soft, hard = limits.cpu_s
    if PRLIMIT:
        caps = [
            f"--as={limits.memory_mb * 1024 * 1024}",
            f"--cpu={soft}:{hard}",
            f"--fsize={limits.max_file_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
        ] + ([f"--nproc={nproc}"] if nproc else [])
        return [PRLIMIT, *caps, python, "-I", "-S", program_path]
    numbers = (limits.memory_mb, soft, hard, limits.max_file_mb, nproc)
    return [python, "-I", "-S", "-c", LAUNCHER, *map(str, numbers), program_path]
