"""The ``bwrap`` backend (default where bubblewrap is installed): namespaces, read-only minimal root, seccomp, cgroups.

One bubblewrap sandbox per :class:`BwrapSandbox` holds a fork server (:mod:`sandboxes.zygote`); every run is a fork
of it with namespaces, mounts, limits and a uid of its own (what is shared between runs, and why that is safe:
:mod:`sandboxes.forkserver`).

Covers: the server's sandbox: the root is a fresh tmpfs with only ``/usr`` (and the interpreter's prefix) bound
read-only, with the interpreter's site-packages hidden under empty read-only tmpfs (a package there may hold a
dataset's reference solutions, see :mod:`sandboxes.pythons`), no network, a cleared environment. Each run: new pid,
mount, network (empty), IPC, UTS and cgroup namespaces; a private ``/tmp``, ``/dev/shm`` and work dir ``/work``,
each a fresh tmpfs of ``disk_mb`` (the run's disk quota: nothing it writes reaches the host's disk, nor another
run); a ``/proc`` showing only the run's processes; the program runs as uid/gid 65534 with no capabilities and
``no_new_privs``, under the seccomp filter of :mod:`sandboxes.seccomp` and rlimits on address space, CPU time and
file size; and, when started as root, a per-run cgroup capping processes (fork bombs), memory (tmpfs pages
included) and CPU. A run ends when its program does or on a limit: its supervisor, pid 1 of its pid namespace,
exits, which ends the namespace and every process in it, ``setsid`` escapees included, and the cgroup is swept.
Runs at once cannot see each other: each has its own pid namespace and file system, and the cleanup of one (its
pid namespace, its own cgroup) cannot reach another's processes.

Does NOT cover: kernel exploits beyond what the seccomp filter removes; CPU side channels; reading the rest of
``/usr`` (public files); without root, the program keeps the caller's uid (in a user namespace, without
capabilities), processes are capped by no cgroup (RLIMIT_NPROC is deliberately not used under bwrap) and memory
only by RLIMIT_AS. As root, the fork server itself is root inside its sandbox (it needs to make each run's
namespaces); it runs no program, and no run can reach it: other pid namespace, other uid, no capabilities.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from score_env.sandboxes import seccomp
from score_env.sandboxes.cgroups import RunCgroup, cgroups_available, remove_later
from score_env.sandboxes.confine import CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS
from score_env.sandboxes.forkserver import CONFINE, ZYGOTE, ForkServer
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
    sandbox = BwrapSandbox()
    try:
        result = sandbox.run("print('ok')", limits=Limits(timeout_s=10))
    except RuntimeError as error:  # the fork server did not start
        return f"bubblewrap cannot start a sandbox here ({error})"
    finally:
        sandbox.close()
    if result.stdout != "ok\n":
        return f"bubblewrap cannot start a sandbox here ({result.status}: {(result.detail + result.stderr)[-300:]})"
    return None


class BwrapSandbox:
    """Runs Python programs inside bubblewrap: one sandboxed fork server, a fresh set of namespaces per run."""

    name = "bwrap"
    isolated = True
    slow_start = False  # a run starts in ~2 ms: a fork of the server (sandboxes.forkserver)

    def __init__(
        self,
        python: str | None = None,
        use_cgroups: bool | None = None,
        use_seccomp: bool | None = None,
        modules: Mapping[str, str] | None = None,
    ):
        if not bwrap_available():
            raise IsolationUnavailable("sandbox=bwrap: bubblewrap is not installed (apt-get install bubblewrap)")
        self.python = python or sandbox_python()
        self.layout = describe(self.python)
        self.as_root = os.geteuid() == 0
        self.use_cgroups = cgroups_available() if use_cgroups is None else use_cgroups
        self.use_seccomp = seccomp.available() if use_seccomp is None else use_seccomp
        bpf = seccomp.compiled() if self.use_seccomp else b""  # compiled once
        self.server = ForkServer(self._server_argv(), seccomp=bpf, pid_namespace=True, modules=modules)

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        return self.start(program, limits=limits).run_to_end(stdin.encode())

    def start(self, program: str, *, limits: Limits = Limits()) -> Session:
        cgroup = RunCgroup.create(limits.memory_mb, limits.max_processes, limits.cpus) if self.use_cgroups else None
        procs = cgroup.open_procs() if cgroup else []

        def release() -> bool:
            oom = bool(cgroup and cgroup.oom_killed())
            if cgroup:
                cgroup.kill_all()  # nothing of the run survives it; only the empty directory is left to remove
                remove_later(cgroup)
            return oom

        kill = cgroup.kill_all if cgroup else _nothing
        return self.server.start(program, limits, self._config(limits), procs, kill=kill, release=release)

    def close(self) -> None:
        """Stop the fork server (runs already started finish)."""
        self.server.close()

    def _config(self, limits: Limits) -> dict:
        """What the zygote does for one run (see sandboxes.zygote)."""
        size = f"size={limits.disk_mb}m"
        owner = f",uid={SANDBOX_UID},gid={SANDBOX_UID}"
        soft, hard = limits.cpu_s
        memory, file = limits.memory_mb << 20, limits.max_file_mb << 20
        rlimits = {"RLIMIT_AS": (memory, memory), "RLIMIT_CPU": (soft, hard), "RLIMIT_CORE": (0, 0),
                   "RLIMIT_FSIZE": (file, file), "RLIMIT_NOFILE": (256, 256)}  # fmt: skip
        return {
            "pid_namespace": True, "unshare": RUN_NAMESPACES,
            "mounts": [["tmpfs", "/tmp", f"{size},mode=1777"], ["tmpfs", "/dev/shm", f"{size},mode=1777"],
                       ["tmpfs", "/work", f"{size},mode=0755{owner}"],
                       ["devpts", "/dev/pts", "newinstance,ptmxmode=0666,mode=620"], ["proc", "/proc", ""]],
            "uid": SANDBOX_UID if self.as_root else None, "rlimits": rlimits, "landlock": None, "cwd": "/work",
            "env": {"PATH": "/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8"},
        }  # fmt: skip

    def _server_argv(self) -> list[str]:
        argv = ["bwrap", *(SERVER_NAMESPACES if self.as_root else USER_NAMESPACE + SERVER_NAMESPACES)]
        argv += ["--tmpfs", "/", "--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            if Path(f"/{name}").is_symlink():
                argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
            elif Path(f"/{name}").is_dir():
                argv += ["--ro-bind", f"/{name}", f"/{name}"]
        if not self.layout.prefix.startswith("/usr"):
            argv += ["--ro-bind", self.layout.prefix, self.layout.prefix]
        for site in self.layout.site_dirs:  # hidden: may hold reference solutions (see sandboxes.pythons)
            argv += ["--perms", "0555", "--size", "4096", "--tmpfs", site, "--remount-ro", site]
        argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/work"]
        argv += ["--ro-bind", ZYGOTE, "/zygote/zygote.py", "--ro-bind", CONFINE, "/zygote/confine.py"]
        argv += ["--chdir", "/work", "--remount-ro", "/"]
        argv += ["--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/work"]
        argv += ["--setenv", "LANG", "C.UTF-8"]
        return [*argv, "--", self.python, "-I", "-S", "/zygote/zygote.py"]


def _nothing() -> None:
    """Without cgroups, closing the run's lifeline is the whole kill: its supervisor ends its pid namespace."""


# The server's own sandbox. As root no user namespace: one made by root would map the sandbox's uid to host root;
# instead the server is root in its own mount, pid and network namespaces, and each run's program drops to
# SANDBOX_UID with no capabilities. Not root: a user namespace, in which the server keeps the capabilities it
# needs to make each run's namespaces, and the runs drop them.
SERVER_NAMESPACES = (
    "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--hostname", "sandbox", "--new-session",
    "--cap-add", "ALL",
)  # fmt: skip
USER_NAMESPACE = ("--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID))
# What each run unshares (its pid namespace comes with its fork, see sandboxes.zygote).
RUN_NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
