"""The ``bwrap`` backend (default where bubblewrap is installed): namespaces, read-only minimal root, seccomp, cgroups.

Covers: new user, pid, network, ipc, uts (and cgroup, where possible) namespaces; the program runs as uid/gid 65534
with no capabilities; the root is a fresh tmpfs with only ``/usr`` (and the interpreter's prefix) bound read-only,
with the interpreter's site-packages hidden under empty read-only tmpfs (a package there may hold a dataset's
reference solutions, see :mod:`sandboxes.pythons`); the program file read-only; a private ``/tmp``, ``/dev/shm`` and
work dir ``/work``, each a tmpfs of ``disk_mb`` (the run's disk quota: nothing it writes reaches the host's disk); no
network at all (an empty network namespace); a cleared environment; the seccomp filter of :mod:`sandboxes.seccomp`;
rlimits on address space, CPU time and file size; and, when started as root, a per-run cgroup capping processes
(fork bombs), memory (tmpfs pages included) and CPU. On timeout the bwrap process is killed, which ends its pid
namespace and every process in it, ``setsid`` escapees included, and the cgroup is swept. Runs at once cannot see
each other: each has its own pid namespace and file system, and the cleanup of one (its pid namespace, its own
cgroup) cannot reach another's processes.

Does NOT cover: kernel exploits beyond what the seccomp filter removes; CPU side channels; reading the rest of
``/usr`` (public files); without root, processes are capped by no cgroup (RLIMIT_NPROC is deliberately not used
under bwrap) and memory only by RLIMIT_AS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from score_env.sandboxes import seccomp
from score_env.sandboxes.cgroups import RunCgroup, cgroups_available, remove_later
from score_env.sandboxes.launcher import launcher_argv
from score_env.sandboxes.popen import PopenProgram, kill_group
from score_env.sandboxes.pythons import describe, sandbox_python
from score_env.sandboxes.result import ExecutionResult, IsolationUnavailable, Limits
from score_env.sandboxes.session import Session

SANDBOX_UID = 65534


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None


@lru_cache(maxsize=1)
def bwrap_unavailable_reason() -> str | None:
    """Why the bwrap backend cannot run here (not installed, or it cannot make its namespaces), or None."""
    if not bwrap_available():
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    result = BwrapSandbox().run("print('ok')", limits=Limits(timeout_s=10))
    if result.stdout != "ok\n":
        return f"bubblewrap cannot start a sandbox here ({result.status}: {(result.detail + result.stderr)[-300:]})"
    return None


class BwrapSandbox:
    """Runs Python programs inside bubblewrap."""

    name = "bwrap"
    isolated = True

    def __init__(self, python: str | None = None, use_cgroups: bool | None = None, use_seccomp: bool | None = None):
        if not bwrap_available():
            raise IsolationUnavailable("sandbox=bwrap: bubblewrap is not installed (apt-get install bubblewrap)")
        self.python = python or sandbox_python()
        self.layout = describe(self.python)
        self.use_cgroups = cgroups_available() if use_cgroups is None else use_cgroups
        self.use_seccomp = seccomp.available() if use_seccomp is None else use_seccomp
        self._bpf = seccomp.compiled() if self.use_seccomp else b""  # compiled once

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        return self.start(program, limits=limits).run_to_end(stdin.encode())

    def start(self, program: str, *, limits: Limits = Limits()) -> Session:
        host = Path(tempfile.mkdtemp(prefix="score-bwrap-"))  # holds only the program, bound read-only
        cgroup = RunCgroup.create(limits.memory_mb, limits.max_processes, limits.cpus) if self.use_cgroups else None
        bpf = seccomp.as_file(self._bpf) if self.use_seccomp else None
        status_r, status_w = os.pipe()

        def release() -> bool:
            oom = bool(cgroup and cgroup.oom_killed())
            if cgroup:
                cgroup.kill_all()  # nothing of the run survives it; only the empty directory is left to remove
                remove_later(cgroup)
            if bpf:
                bpf.close()
            shutil.rmtree(host, ignore_errors=True)
            return oom

        try:
            (host / "main.py").write_text(program, encoding="utf-8")
            argv = self._argv(host / "main.py", limits, bpf.fileno() if bpf else None, status_w)
            if os.geteuid() == 0:
                argv = _as_root(argv, host, cgroup)
            fds = (status_w, bpf.fileno()) if bpf else (status_w,)
            started = PopenProgram(
                argv,
                kill=lambda proc: _kill(proc, cgroup),
                release=release,
                started_fd=status_r,
                env={},
                pass_fds=fds,
                signal_exit_codes=True,
            )
        except Exception:  # could not start: release what was made, then fail loud
            os.close(status_r)
            release()
            raise
        finally:
            os.close(status_w)
        return Session(started, limits)

    def _argv(self, program: Path, limits: Limits, seccomp_fd: int | None, status_fd: int) -> list[str]:
        argv = ["bwrap", *NAMESPACES, "--tmpfs", "/", "--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            if Path(f"/{name}").is_symlink():
                argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
            elif Path(f"/{name}").is_dir():
                argv += ["--ro-bind", f"/{name}", f"/{name}"]
        if not self.layout.prefix.startswith("/usr"):
            argv += ["--ro-bind", self.layout.prefix, self.layout.prefix]
        for site in self.layout.site_dirs:  # hidden: may hold reference solutions (see sandboxes.pythons)
            argv += ["--perms", "0555", "--size", "4096", "--tmpfs", site, "--remount-ro", site]
        size = str(limits.disk_mb * 1024 * 1024)
        argv += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm"]
        argv += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/work"]
        argv += ["--ro-bind", str(program), "/work/main.py", "--chdir", "/work", "--remount-ro", "/"]
        argv += ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/work"]
        argv += ["--setenv", "LANG", "C.UTF-8", "--json-status-fd", str(status_fd)]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        return [*argv, "--", *launcher_argv(self.python, "/work/main.py", limits, nproc=0)]


NAMESPACES = (
    "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--die-with-parent",
    "--new-session", "--cap-drop", "ALL",
)  # fmt: skip


def _as_root(argv: list[str], host: Path, cgroup: RunCgroup | None) -> list[str]:
    """As root, bwrap itself runs as the unprivileged uid (a user namespace made by root would map the sandbox's uid
    to host root). The shell first joins the run's cgroup, so nothing escapes the count."""
    os.chown(host, SANDBOX_UID, SANDBOX_UID)
    (host / "main.py").chmod(0o644)
    drop = ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups"]
    enter = f"{cgroup.enter_command()} && " if cgroup else ""
    return ["/bin/sh", "-c", f'{enter}exec "$@"', "sh", *drop, *argv]


def _kill(proc: subprocess.Popen, cgroup: RunCgroup | None) -> None:
    kill_group(proc)  # bwrap and its pid namespace: every process inside dies with its init
    if cgroup:
        cgroup.kill_all()
