"""The first code that runs inside every sandbox: set rlimits, then ``exec`` the real program.

Run as ``python -I -S -c LAUNCHER <memory_mb> <cpu_s> <file_mb> <nproc> <program path>``. Setting limits here, in
the child, avoids ``preexec_fn`` (unsafe when the parent has threads, and the rollout loop grades in threads).
``nproc`` of 0 leaves RLIMIT_NPROC alone (under bwrap it makes sandbox starts fail at random: issue #4).
"""

import shutil

LAUNCHER = """
import os, resource, sys
memory_mb, cpu_s, file_mb, nproc = (int(a) for a in sys.argv[1:5])
def cap(limit, value):
    resource.setrlimit(limit, (value, value))
cap(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
cap(resource.RLIMIT_CPU, cpu_s)
cap(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
cap(resource.RLIMIT_CORE, 0)
cap(resource.RLIMIT_NOFILE, 256)
if nproc:
    cap(resource.RLIMIT_NPROC, nproc)
os.execv(sys.executable, [sys.executable, "-I", sys.argv[5]])
"""


PRLIMIT = shutil.which("prlimit", path="/usr/bin:/bin")


def launcher_argv(python: str, program_path: str, memory_mb: int, cpu_s: int, file_mb: int, nproc: int) -> list[str]:
    """The command that sets the rlimits and runs ``program_path``.

    util-linux's ``prlimit`` (a small C program that sets limits on itself and execs) where installed: it saves a
    second interpreter start (~7 ms a run); the Python launcher above otherwise.
    """
    if PRLIMIT:
        limits = [
            f"--as={memory_mb * 1024 * 1024}",
            f"--cpu={cpu_s}",
            f"--fsize={file_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
        ] + ([f"--nproc={nproc}"] if nproc else [])
        return [PRLIMIT, *limits, python, "-I", program_path]
    return [python, "-I", "-S", "-c", LAUNCHER, str(memory_mb), str(cpu_s), str(file_mb), str(nproc), program_path]
