"""The seccomp filter of the bwrap and process backends, compiled with libseccomp (``pyseccomp``) to BPF.

Allow by default, refuse with EPERM what a Python test program never needs and an escape would: opening non-Unix
sockets (under bwrap the network namespace already has no route out: defence in depth; the process backend refuses
every socket), ptrace, mounting, new namespaces, kernel keyrings, BPF, perf events, module loading, rebooting, swap,
and the clock. Each run's program process loads it itself (:mod:`sandboxes.zygote`), last, after its namespaces,
mounts, uid and rlimits are set, so the filter does not stop that set-up; every process the program starts inherits
it.
"""

from __future__ import annotations

import errno
import socket
import tempfile
from typing import BinaryIO

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare",
    "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "settimeofday",
    "clock_settime", "adjtimex", "acct", "quotactl", "open_by_handle_at", "userfaultfd", "io_uring_setup",
    "personality", "syslog", "vhangup",
)  # fmt: skip


def available() -> bool:
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):  # OSError: libseccomp.so missing
        return False
    return True


def compile_filter(unix_sockets: bool = True) -> BinaryIO:
    """A temporary file holding the BPF program, positioned at its start.

    ``unix_sockets=False`` (the process backend, which has no private file system) refuses every ``socket()``:
    Unix sockets on the host (a database, an agent) would be reachable by path or in the abstract namespace.
    """
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    for name in DENIED:
        rules.add_rule(eperm, name)
    if unix_sockets:  # socket(domain, ...): only AF_UNIX may be created.
        rules.add_rule(eperm, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    else:
        rules.add_rule(eperm, "socket")
    # clone with CLONE_NEWUSER (0x10000000): no nested user namespaces.
    rules.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, 0x10000000, 0x10000000))
    # clone3 passes its flags in memory a filter cannot read: answer ENOSYS so libc falls back to clone (checked above).
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    bpf = tempfile.TemporaryFile()  # noqa: SIM115  (the caller owns it and reads it back)
    rules.export_bpf(bpf)
    bpf.seek(0)
    return bpf


def compiled(unix_sockets: bool = True) -> bytes:
    """The BPF program as bytes (see :func:`compile_filter`)."""
    with compile_filter(unix_sockets) as bpf:
        return bpf.read()
