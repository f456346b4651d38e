"""The ``bwrap`` backend (default where bubblewrap is installed): namespaces, read-only minimal root, seccomp, cgroups.

Covers: new user, pid, network, ipc, uts (and cgroup, where possible) namespaces; the program runs as uid/gid 65534
with no capabilities; the root is a fresh tmpfs with only ``/usr`` (and the interpreter's prefix) bound read-only,
a private ``/tmp`` and the work dir ``/work`` writable; no network at all (an empty network namespace); a cleared
environment; the seccomp filter of :mod:`sandboxes.seccomp`; rlimits on address space, CPU time and file size; and,
when started as root, a per-run cgroup capping processes (fork bombs), memory and CPU. On timeout the bwrap process
is killed, which ends its pid namespace and every process in it, ``setsid`` escapees included, and the cgroup is
swept.

Does NOT cover: kernel exploits beyond what the seccomp filter removes; CPU side channels; reading ``/usr`` (public
files); without root, processes are capped by no cgroup (RLIMIT_NPROC is deliberately not used under bwrap) and
memory only by RLIMIT_AS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from score_env.sandboxes import seccomp
from score_env.sandboxes.capture import kill_group, run_captured
from score_env.sandboxes.cgroups import RunCgroup, cgroups_available, remove_later
from score_env.sandboxes.launcher import launcher_argv
from score_env.sandboxes.result import ExecutionResult, Limits, Status
from score_env.sandboxes.verdict import classify

SANDBOX_UID = 65534


def bwrap_available() -> bool:
    return shutil.which("bwrap") is not None


class BwrapSandbox:
    """Runs Python programs inside bubblewrap."""

    name = "bwrap"

    def __init__(self, python: str | None = None, use_cgroups: bool | None = None, use_seccomp: bool | None = None):
        if not bwrap_available():
            raise RuntimeError("bubblewrap is not installed (apt-get install bubblewrap)")
        self.python = python or shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        self.use_cgroups = cgroups_available() if use_cgroups is None else use_cgroups
        self.use_seccomp = seccomp.available() if use_seccomp is None else use_seccomp
        self._bpf = seccomp.compile_filter().read() if self.use_seccomp else b""  # compiled once

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        work = Path(tempfile.mkdtemp(prefix="score-bwrap-"))
        cgroup = RunCgroup.create(limits.memory_mb, limits.max_processes, limits.cpus) if self.use_cgroups else None
        bpf = seccomp.as_file(self._bpf) if self.use_seccomp else None
        try:
            (work / "main.py").write_text(program, encoding="utf-8")
            argv = self._argv(work, limits, bpf.fileno() if bpf else None)
            if os.geteuid() == 0:
                # As root, bwrap itself runs as the unprivileged uid (a user namespace made by root would map the
                # sandbox's uid to host root). The shell first joins the run's cgroup, so nothing escapes the count.
                os.chown(work, SANDBOX_UID, SANDBOX_UID)
                (work / "main.py").chmod(0o644)
                drop = ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups"]
                enter = f"{cgroup.enter_command()} && " if cgroup else ""
                argv = ["/bin/sh", "-c", f'{enter}exec "$@"', "sh", *drop, *argv]
            captured = run_captured(
                argv,
                stdin=stdin.encode(),
                timeout_s=limits.timeout_s,
                max_output_bytes=limits.max_output_bytes,
                kill=lambda proc: _kill(proc, cgroup),
                env={},
                start_new_session=True,
                pass_fds=(bpf.fileno(),) if bpf else (),
            )
            if captured.returncode is not None and captured.returncode != 0 and _bwrap_failed(captured.stderr):
                return ExecutionResult(
                    Status.ERROR,
                    captured.returncode,
                    "",
                    captured.stderr.decode(errors="replace"),
                    captured.duration_s,
                    detail="bwrap could not start the sandbox",
                )
            return classify(captured, limits, oom_killed=bool(cgroup and cgroup.oom_killed()))
        finally:
            if cgroup:
                cgroup.kill_all()  # nothing of the run survives it; only the empty directory is left to remove
                remove_later(cgroup)
            if bpf:
                bpf.close()
            shutil.rmtree(work, ignore_errors=True)

    def _argv(self, work: Path, limits: Limits, seccomp_fd: int | None) -> list[str]:
        prefix = Path(os.path.realpath(self.python)).parents[1]  # /usr for the system python
        argv = [
            "bwrap",
            "--unshare-user",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--tmpfs",
            "/",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for name in ("lib", "lib64", "bin", "sbin"):
            if Path(f"/{name}").is_symlink():
                argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
            elif Path(f"/{name}").is_dir():
                argv += ["--ro-bind", f"/{name}", f"/{name}"]
        if not str(prefix).startswith("/usr"):
            argv += ["--ro-bind", str(prefix), str(prefix)]
        argv += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--bind",
            str(work),
            "/work",
            "--chdir",
            "/work",
            "--remount-ro",
            "/",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--setenv",
            "HOME",
            "/work",
            "--setenv",
            "LANG",
            "C.UTF-8",
        ]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        return [
            *argv,
            "--",
            *launcher_argv(
                self.python, "/work/main.py", limits.memory_mb, int(limits.timeout_s) + 1, limits.max_file_mb, 0
            ),
        ]


def _kill(proc: subprocess.Popen, cgroup: RunCgroup | None) -> None:
    kill_group(proc)  # bwrap and its pid namespace: every process inside dies with its init
    if cgroup:
        cgroup.kill_all()


def _bwrap_failed(stderr: bytes) -> bool:
    return stderr.startswith(b"bwrap:")
