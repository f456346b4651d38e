"""The first code that runs inside every sandbox: set rlimits, then ``exec`` the real program.

Run as ``python -I -S -c LAUNCHER <memory_mb> <cpu_s> <file_mb> <nproc> <program path>``. Setting limits here, in
the child, avoids ``preexec_fn`` (unsafe when the parent has threads, and the rollout loop grades in threads).
``nproc`` of 0 leaves RLIMIT_NPROC alone (under bwrap it makes sandbox starts fail at random: issue #4).
"""

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


def launcher_argv(python: str, program_path: str, memory_mb: int, cpu_s: int, file_mb: int, nproc: int) -> list[str]:
    return [python, "-I", "-S", "-c", LAUNCHER, str(memory_mb), str(cpu_s), str(file_mb), str(nproc), program_path]
