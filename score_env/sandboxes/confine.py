"""The steps that confine one run's processes, for :mod:`sandboxes.zygote`. Standard library only (ctypes for the
system calls Python 3.11 lacks).

Each step is a function that raises :class:`OSError` when the kernel refuses it; the zygote then ends the run with
status 125 before the program starts, which the host reports as a sandbox error, never a program failure.
"""

import ctypes
import os
import resource

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x2000000, 0x4000000, 0x8000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 24, 38, 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_SET_CHILD_SUBREAPER = 22, 2, 36
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446  # the same on every arch
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
CAPABILITY_VERSION_3 = 0x20080522

libc = ctypes.CDLL(None, use_errno=True)


class RulesetAttr(ctypes.Structure):
    _fields_ = (("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64))  # fmt: skip


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class CapData(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))


def check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def prctl(option: int, arg: int, what: str) -> None:
    check(libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)), what)


def unshare(flags: int) -> None:
    if flags:
        check(libc.unshare(flags), f"unshare({flags:#x})")


def set_pid_namespace(fd: int) -> None:
    """Make the caller's next children start in the pid namespace ``fd`` (its own: after an ``unshare``)."""
    check(libc.setns(fd, CLONE_NEWPID), "setns(CLONE_NEWPID)")


def join_cgroups(procs_fds: list) -> None:
    """Move the caller into the run's cgroups through ``cgroup.procs`` files the host opened ("0": the writer)."""
    for fd in procs_fds:
        os.write(fd, b"0")


def mount_private(mounts: list) -> None:
    """In the caller's (new) mount namespace: nothing propagates out, and a fresh file system at each
    ``[type, path, options]`` of ``mounts`` (tmpfs for writable places, devpts for ptys, proc for /proc: one of the
    caller's pid namespace)."""
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    for kind, path, options in mounts:
        flags = MS_NOSUID | (MS_NOEXEC if kind in ("proc", "devpts") else 0) | (0 if kind == "devpts" else MS_NODEV)
        check(libc.mount(kind.encode(), path.encode(), kind.encode(), flags, options.encode()), f"mount {kind} {path}")


def not_dumpable() -> None:
    """No process of another uid, nor one without capabilities, may read or trace this one (``/proc/PID/mem``)."""
    prctl(PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE")


def set_rlimits(limits: dict) -> None:
    for name, (soft, hard) in limits.items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


def drop_privileges(uid) -> None:
    """Become ``uid`` (when given) with no supplementary groups, and hold no capability, now or after ``exec``."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):  # the bounding set: what an exec could grant (no_new_privs already forbids it)
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) < 0:
            break  # EPERM: a caller without CAP_SETPCAP has no capability for capset below to clear either
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "PR_CAP_AMBIENT_CLEAR_ALL")
    data = (CapData * 2)()  # all zero: no effective, permitted or inheritable capability
    check(libc.capset(ctypes.byref(CapHeader(CAPABILITY_VERSION_3, 0)), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")
    # The uid change made the process undumpable; a program started by exec is dumpable (its /proc/self is its own).
    prctl(PR_SET_DUMPABLE, 1, "PR_SET_DUMPABLE")


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
