"""The ``process`` backend: a fork of a pre-started interpreter, confined by the kernel's tools. An explicit opt-in.

It is never chosen by ``sandbox="auto"``, and it warns once per process when made (:func:`sandboxes.make_sandbox`).
Each run is a fork of the backend's fork server (:mod:`sandboxes.zygote`; a root process on the host when run as
root), which confines the run's process before its program arrives (what runs share: :mod:`sandboxes.forkserver`).

Covers, as root (how the project runs its tests and benchmarks):
- a uid of its own for each run, allocated host-wide (:mod:`sandboxes.uids`): no two runs on the host, in any
  process, share one, so a run cannot read or signal another, and the end-of-run sweep (every process of the uid
  is killed) cannot touch another run;
- a per-run cgroup: memory for all its processes together (not per process), process count (fork bombs), CPU;
- a private mount namespace with tmpfs of ``disk_mb`` over its work dir, ``/tmp``, ``/var/tmp`` and ``/dev/shm``:
  the disk quota of the run; nothing it writes lands on the host, and all of it vanishes with the run;
- Landlock (Linux 5.13+): it can read only the interpreter, its standard library and shared libraries (not the
  datasets, the project, site-packages, ``/proc`` or anyone's home), and write only its private
  directories; no TCP on ABI 4+; no abstract Unix sockets or signals out of the run on ABI 6+;
- seccomp: no ``socket()`` at all (loopback, the network, Unix sockets), no ptrace, no mounts or namespaces, ...;
- a cleared environment, rlimits (address space, CPU time, file size, open files, processes), an output cap, a
  wall-clock limit after which the process group, the cgroup and the uid are swept. The run's supervisor (root, a
  fork of the server) reports its exit code and kills its process group when the run ends.

Does NOT cover (use ``bwrap`` or ``docker``):
- no pid, network, ipc or uts namespaces: network isolation rests on seccomp and Landlock alone, and hiding the
  host's processes on Landlock denying ``/proc`` (without Landlock the program lists them, their command lines
  included, though not their memory: other uids); kernel attack surface beyond the seccomp filter;
- not as root: no uid of its own (the program runs as the caller and can signal the caller's processes), no cgroup
  (memory is capped per process by RLIMIT_AS, processes are not capped), no private tmpfs (its work dir is on the
  host disk: only RLIMIT_FSIZE caps each file, not the total);
- without Landlock (an old kernel, or disabled): the program can read whatever its uid can (world-readable files,
  the datasets included) and, without root, write wherever the caller can. Trusted code only, then: the warning
  says so;
- an interpreter whose site-packages lie inside its standard library (pyenv, venv) cannot hide them; the system
  Python (``/usr/bin/python3``) is used where there is one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from score_env.sandboxes import seccomp
from score_env.sandboxes.cgroups import RunCgroup, cgroups_available, remove_later
from score_env.sandboxes.confine import CLONE_NEWNS
from score_env.sandboxes.forkserver import ZYGOTE, ForkServer
from score_env.sandboxes.pythons import describe, sandbox_python
from score_env.sandboxes.result import ExecutionResult, Limits
from score_env.sandboxes.session import Session
from score_env.sandboxes.uids import UidLease, kill_uid, lease_uid

PRIVATE = ("/tmp", "/var/tmp", "/dev/shm")  # covered by a private tmpfs as root
RUNS_DIR = Path("/run/score-sandbox/runs")  # as root: where each run's work dir lives
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


class ProcessSandbox:
    """Runs Python programs in a fork of a pre-started interpreter, confined as the host allows (see the module
    doc)."""

    name = "process"
    isolated = False  # no namespaces beyond a mount namespace: never chosen by "auto"
    slow_start = False  # a run is a fork of the server (sandboxes.forkserver)

    def __init__(self, python: str | None = None, modules: Mapping[str, str] | None = None):
        self.python = python or sandbox_python()
        self.layout = describe(self.python)
        self.as_root = os.geteuid() == 0
        self.use_cgroups = self.as_root and cgroups_available()
        self.landlock = landlock_abi() > 0
        self._bpf = seccomp.compiled(unix_sockets=False) if seccomp.available() else b""
        argv = [self.python, "-I", "-S", ZYGOTE]
        self.server = ForkServer(argv, seccomp=self._bpf, pid_namespace=False, modules=modules)

    def caveats(self) -> list[str]:
        """What this host leaves uncovered, beyond the module doc's list: empty when fully confined."""
        found = [] if self.as_root else ["not root: no uid of its own, no cgroup, no disk quota"]
        found += [] if self.landlock else ["no Landlock: the program can read the datasets and the host's files"]
        found += [] if self._bpf else ["no seccomp (pyseccomp missing): the program can open sockets"]
        if self.layout.site_inside_stdlib():
            found.append(f"{self.python}'s site-packages lie inside its standard library and stay readable")
        return found

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        return self.start(program, limits=limits).run_to_end(stdin.encode())

    def start(self, program: str, *, limits: Limits = Limits()) -> Session:
        lease = lease_uid() if self.as_root else None
        if self.as_root:  # not under /tmp: the run's private tmpfs covers /tmp
            RUNS_DIR.mkdir(parents=True, exist_ok=True, mode=0o711)
        run_dir = Path(tempfile.mkdtemp(prefix="score-sandbox-", dir=RUNS_DIR if self.as_root else None))
        cgroup = RunCgroup.create(limits.memory_mb, limits.max_processes, limits.cpus) if self.use_cgroups else None
        procs = cgroup.open_procs() if cgroup else []

        def release() -> bool:
            oom = bool(cgroup and cgroup.oom_killed())
            if cgroup:
                cgroup.kill_all()
                remove_later(cgroup)
            if lease:  # with a cgroup, everything of the run was in it and is gone: no need to sweep the uid too
                lease.release(sweep=cgroup is None)
            shutil.rmtree(run_dir, ignore_errors=True)
            return oom

        try:
            config = self._config(run_dir, limits, lease)
        except Exception:  # could not start: release what was made, then fail loud
            release()
            for fd in procs:
                os.close(fd)
            raise
        return self.server.start(program, limits, config, procs, kill=lambda: _kill(lease, cgroup), release=release)

    def close(self) -> None:
        """Stop the fork server (runs already started finish)."""
        self.server.close()

    def _config(self, run_dir: Path, limits: Limits, lease: UidLease | None) -> dict:
        """What the zygote does for this run (see sandboxes.zygote)."""
        work = run_dir / "work"
        work.mkdir()
        uid = lease.uid if lease else None
        if uid is not None:
            run_dir.chmod(0o711)  # the run's uid may reach its work dir, not list the directory
            os.chown(work, uid, uid)
        private = [str(work), *PRIVATE] if uid is not None else []
        mounts = [["tmpfs", path, f"size={limits.disk_mb}m,mode={'0700' if path == str(work) else '1777'},uid={uid},"
                   f"gid={uid}"] for path in private]  # fmt: skip
        soft, hard = limits.cpu_s
        memory, file = limits.memory_mb << 20, limits.max_file_mb << 20
        rlimits = {"RLIMIT_AS": (memory, memory), "RLIMIT_CPU": (soft, hard), "RLIMIT_CORE": (0, 0),
                   "RLIMIT_FSIZE": (file, file), "RLIMIT_NOFILE": (256, 256)}  # fmt: skip
        if uid is not None:  # counts the processes of the real uid: only meaningful for a uid of the run's own
            rlimits["RLIMIT_NPROC"] = (limits.max_processes, limits.max_processes)
        read = [p for p in dict.fromkeys([self.layout.executable, *self.layout.stdlib, *self.layout.libraries])
                if os.path.exists(p)]  # fmt: skip
        landlock = {"read": read, "write": [*(private or [str(work)]), *DEVICES]} if self.landlock else None
        tmp = "/tmp" if uid is not None else str(work)
        return {
            "pid_namespace": False, "unshare": CLONE_NEWNS if private else 0, "mounts": mounts,
            "uid": uid, "rlimits": rlimits, "landlock": landlock, "cwd": str(work),
            "env": {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "TMPDIR": tmp},
        }  # fmt: skip


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel; 0 when it has none (or it is disabled)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))


def _kill(lease: UidLease | None, cgroup: RunCgroup | None) -> None:
    """Beyond the run's lifeline (its supervisor kills the program's process group): every process of the run."""
    if cgroup:
        cgroup.kill_all()  # every process of the run joined it before the program started
    elif lease:
        kill_uid(lease.uid)  # the uid is this run's alone: every process of it is this run's
