"""The process backend's launcher: confine this process, then ``exec`` the untrusted program. Standard library only.

Run as ``python -I -S confine.py CONFIG_JSON`` (see :class:`sandboxes.process.ProcessSandbox` for the config). In
order, each step only when configured:

1. join the run's cgroup(s) (as root: the memory and process caps of the whole run);
2. a private mount namespace with a tmpfs of ``disk_mb`` over the work dir, ``/tmp``, ``/var/tmp`` and
   ``/dev/shm`` (as root: the run's disk quota; nothing it writes reaches the host, all of it vanishes with it);
3. rlimits; drop to the run's own uid with no supplementary groups; ``no_new_privs``;
4. Landlock: read only the interpreter, its standard library and shared libraries, and the program; write only
   the private directories; no TCP (ABI 4+); no abstract Unix sockets or signals outside the run (ABI 6+);
5. the seccomp filter compiled by :mod:`sandboxes.seccomp` (no sockets at all, no ptrace, ...);
6. tell the parent the sandbox is set up (the "started" pipe, closed before the program runs), ``exec``.

Any failure exits with status 125 before step 6: the parent then reports a sandbox error, never a program failure.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x20000, 0x2, 0x4, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446  # the same on every arch
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV

libc = ctypes.CDLL(None, use_errno=True)


class RulesetAttr(ctypes.Structure):
    _fields_ = (("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64))  # fmt: skip


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def join_cgroups(procs_files: list) -> None:
    for path in procs_files:
        with open(path, "w") as f:
            f.write(str(os.getpid()))


def private_tmpfs(paths: list, size_mb: int, uid: int) -> None:
    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    for path in paths:
        options = f"size={size_mb}m,mode={'0700' if path == paths[0] else '1777'},uid={uid},gid={uid}"
        check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()), f"mount {path}")


def set_rlimits(limits: dict) -> None:
    for name, (soft, hard) in limits.items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def landlock(read: list, write: list) -> None:
    abi = check(libc.syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1)), "landlock abi")
    fs = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    fs |= FS_IOCTL_DEV if abi >= 5 else 0
    attr = RulesetAttr(fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)  # TCP bind+connect; unix+signal
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = check(libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0), "ruleset")
    for paths, rights in ((read, FS_READ_FILE | FS_READ_DIR | FS_EXECUTE), (write, fs)):
        for path in paths:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            allowed = rights & fs & (FILE_RIGHTS if not os.path.isdir(path) else ~0)
            rule = PathBeneath(allowed, fd)
            check(libc.syscall(LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0), f"landlock rule {path}")
            os.close(fd)
    check(libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)


def seccomp(bpf: bytes) -> None:
    buffer = ctypes.create_string_buffer(bpf, len(bpf))
    program = SockFprog(len(bpf) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    check(libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(program), 0, 0), "seccomp")


def confine(config: dict) -> None:
    join_cgroups(config["cgroup_procs"])
    if config["private_dirs"]:
        private_tmpfs(config["private_dirs"], config["disk_mb"], config["uid"])
    set_rlimits(config["rlimits"])
    if config["uid"] is not None:
        drop_privileges(config["uid"])
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), 0), "no_new_privs")
    if config["landlock"]:
        landlock(config["read"], config["write"])
    if config["seccomp"]:
        seccomp(bytes.fromhex(config["seccomp"]))


def main() -> None:
    config = json.loads(sys.argv[1])
    try:
        confine(config)
    except OSError as error:
        os.write(2, f"confine: {error}\n".encode())
        os._exit(125)
    os.write(config["started_fd"], b"started")
    os.close(config["started_fd"])
    os.chdir(config["work"])
    python = config["python"]
    os.execve(python, [python, "-I", "-S", config["program"]], config["env"])


if __name__ == "__main__":
    main()
