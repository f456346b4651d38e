"""The ``process`` backend: a fresh interpreter confined by the kernel's unprivileged tools. An explicit opt-in.

It is never chosen by ``sandbox="auto"``, and it warns once per process when made (:func:`sandboxes.make_sandbox`).

Covers, as root (how the project runs its tests and benchmarks):
- a uid of its own for each run, allocated host-wide (:mod:`sandboxes.uids`): no two runs on the host, in any
  process, share one, so a run cannot read or signal another, and the end-of-run sweep (every process of the uid
  is killed) cannot touch another run;
- a per-run cgroup: memory for all its processes together (not per process), process count (fork bombs), CPU;
- a private mount namespace with tmpfs of ``disk_mb`` over its work dir, ``/tmp``, ``/var/tmp`` and ``/dev/shm``:
  the disk quota of the run; nothing it writes lands on the host, and all of it vanishes with the run;
- Landlock (Linux 5.13+): it can read only the interpreter, its standard library and shared libraries, and its
  program (not the datasets, the project, site-packages, ``/proc`` or anyone's home), and write only its private
  directories; no TCP on ABI 4+; no abstract Unix sockets or signals out of the run on ABI 6+;
- seccomp: no ``socket()`` at all (loopback, the network, Unix sockets), no ptrace, no mounts or namespaces, ...;
- a cleared environment, rlimits (address space, CPU time, file size, open files, processes), an output cap, a
  wall-clock limit after which the process group, the cgroup and the uid are swept.

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

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from score_env.sandboxes import seccomp
from score_env.sandboxes.cgroups import RunCgroup, cgroups_available, remove_later
from score_env.sandboxes.popen import PopenProgram, kill_group
from score_env.sandboxes.pythons import describe, sandbox_python
from score_env.sandboxes.result import ExecutionResult, Limits
from score_env.sandboxes.session import Session
from score_env.sandboxes.uids import UidLease, kill_uid, lease_uid

CONFINE = str(Path(__file__).with_name("confine.py"))
PRIVATE = ("/tmp", "/var/tmp", "/dev/shm")  # covered by a private tmpfs as root
RUNS_DIR = Path("/run/score-sandbox/runs")  # as root: where each run's program and work dir live
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


class ProcessSandbox:
    """Runs Python programs in a fresh interpreter under the confinement the host allows (see the module doc)."""

    name = "process"
    isolated = False  # no namespaces beyond a mount namespace: never chosen by "auto"

    def __init__(self, python: str | None = None):
        self.python = python or sandbox_python()
        self.layout = describe(self.python)
        self.as_root = os.geteuid() == 0
        self.use_cgroups = self.as_root and cgroups_available()
        self.landlock = landlock_abi() > 0
        self._bpf = seccomp.compiled(unix_sockets=False).hex() if seccomp.available() else ""

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
        if self.as_root:  # not under /tmp: the run's private tmpfs covers /tmp, and its program must stay visible
            RUNS_DIR.mkdir(parents=True, exist_ok=True, mode=0o711)
        run_dir = Path(tempfile.mkdtemp(prefix="score-sandbox-", dir=RUNS_DIR if self.as_root else None))
        cgroup = RunCgroup.create(limits.memory_mb, limits.max_processes, limits.cpus) if self.use_cgroups else None
        status_r, status_w = os.pipe()

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
            config = self._config(run_dir, program, limits, lease, cgroup, status_w)
            started = PopenProgram(
                [self.python, "-I", "-S", CONFINE, json.dumps(config)],
                kill=lambda proc: _kill(proc, lease, cgroup),
                release=release,
                started_fd=status_r,
                env={},
                cwd=run_dir,
                pass_fds=(status_w,),
            )
        except Exception:  # could not start: release what was made, then fail loud
            os.close(status_r)
            release()
            raise
        finally:
            os.close(status_w)
        return Session(started, limits)

    def _config(
        self, run_dir: Path, program: str, limits: Limits, lease: UidLease | None, cgroup: RunCgroup | None, fd: int
    ) -> dict:
        """What :mod:`sandboxes.confine` does for this run."""
        work = run_dir / "work"
        work.mkdir()
        (run_dir / "main.py").write_text(program, encoding="utf-8")
        uid = lease.uid if lease else None
        if uid is not None:
            run_dir.chmod(0o711)  # the run's uid may reach its program, not list the directory
            (run_dir / "main.py").chmod(0o644)
            os.chown(work, uid, uid)
        private = [str(work), *PRIVATE] if uid is not None else []
        soft, hard = limits.cpu_s
        memory, file = limits.memory_mb << 20, limits.max_file_mb << 20
        rlimits = {"RLIMIT_AS": (memory, memory), "RLIMIT_CPU": (soft, hard), "RLIMIT_CORE": (0, 0),
                   "RLIMIT_FSIZE": (file, file), "RLIMIT_NOFILE": (256, 256)}  # fmt: skip
        if uid is not None:  # counts the processes of the real uid: only meaningful for a uid of the run's own
            rlimits["RLIMIT_NPROC"] = (limits.max_processes, limits.max_processes)
        tmp = "/tmp" if uid is not None else str(work)
        return {
            "uid": uid, "cgroup_procs": cgroup.procs_files() if cgroup else [], "private_dirs": private,
            "disk_mb": limits.disk_mb, "rlimits": rlimits, "landlock": self.landlock,
            "read": self._readable(run_dir), "write": [*(private or [str(work)]), *DEVICES],
            "seccomp": self._bpf, "started_fd": fd, "work": str(work), "python": self.python,
            "program": str(run_dir / "main.py"),
            "env": {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "TMPDIR": tmp},
        }  # fmt: skip

    def _readable(self, run_dir: Path) -> list[str]:
        layout = self.layout
        return [
            p
            for p in dict.fromkeys([layout.executable, *layout.stdlib, *layout.libraries, str(run_dir / "main.py")])
            if os.path.exists(p)
        ]


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel; 0 when it has none (or it is disabled)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return max(0, libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))


def _kill(proc: subprocess.Popen, lease: UidLease | None, cgroup: RunCgroup | None) -> None:
    kill_group(proc)
    if cgroup:
        cgroup.kill_all()  # every process of the run joined it before the program started
    elif lease:
        kill_uid(lease.uid)  # the uid is this run's alone: every process of it is this run's
