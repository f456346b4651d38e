"""The fork server ("zygote") of the bwrap and process backends: one pre-started interpreter that forks every run.

Runs as ``python -I -S zygote.py FD`` inside its backend's confinement (bwrap: the sandbox's root, namespaces and
capabilities to make more; process: a plain root process on the host), with the server's end of a control socket
``FD`` (:mod:`sandboxes.forkserver` is the host's side). Standard library only. The first message sets it up (the
modules to import once for every program, trusted source to run once as modules, the seccomp filter); it answers
``ready`` with a socket of its own making, which only it holds (bwrap's monitor process holds the inherited one
too), so that the host sees the server die when it does. Each message on that socket is one run: its config (JSON)
and its file descriptors (stdin, stdout, stderr, "started", lifeline, status, then the ``cgroup.procs`` files of
its cgroups). The server only forks: it never reads a program, so no program's text is in the memory its later
children inherit.

In each run, two processes:

1. the supervisor, forked by the server; with ``pid_namespace`` it is pid 1 of a new pid namespace (the server
   unshares CLONE_NEWPID for that one fork, then returns to its own). It joins the run's cgroups, unshares the
   configured namespaces (mount, network, IPC, UTS, cgroup), mounts a fresh tmpfs over every writable place of the
   run, a devpts (ptys) and a /proc of its own, makes itself undumpable (no ``/proc/1/mem`` for the program), and
   forks
2. the program's process: a session of its own, the run's stdio on fds 0-2 and nothing else open, an OOM score of
   1000 (the first to go when the run's cgroup runs out of memory), rlimits, the run's uid, no capabilities,
   no_new_privs, Landlock, seccomp. It writes "started" (the host's evidence that the sandbox ran, which the
   program cannot forge: the pipe is closed before the program runs), reads its program from stdin
   (length-prefixed: what follows is the program's own stdin) and runs it as ``__main__`` (:func:`run_as_main`).

The supervisor writes the program's exit code on the status pipe and ends the run: with a pid namespace it exits
as soon as the program has (the kernel then kills every process left in the namespace, and its own exit completes
only once they are gone), else it kills the program's process group when the host closes the lifeline. A closed
lifeline (the host ended the run, or died) ends the run at once. The status pipe reaches EOF when the supervisor
has exited: the host's signal that nothing of the run is left (with a pid namespace).

Any failure before the program starts exits with status 125 and a line on the run's stderr; the host reports a
sandbox error.
"""

import atexit
import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confine  # next to this file, which runs as a script: -I keeps its directory off sys.path

del sys.path[0]

HEADER_BYTES = 11  # "%010d\n": the length of the program, in bytes, before the program on stdin
REAP_S = 0.1  # how often the supervisor of a pid namespace reaps orphans while the program runs


def main(control_fd: int) -> bytes | None:
    """Serve runs until the host closes the control socket (then None); in a run's program process, confined,
    return its program."""
    control, bpf, own_pid_ns = _set_up(control_fd)
    can_return = own_pid_ns >= 0 and _can_return_to(own_pid_ns)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the supervisors
    confine.prctl(confine.PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER")  # and adopts those orphaned
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 64)
        if not message:  # the host closed the server: let the runs in flight finish (bwrap would end them with us)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(-1, 0)  # with SIGCHLD ignored: returns once every child has exited
            return None
        try:
            pid = _fork_run(own_pid_ns, can_return)
        except OSError as error:  # no run: tell it on the run's stderr; closing its fds ends it as a sandbox error
            _report(fds[2], f"zygote: cannot fork the run: {error}")
            pid = None
        if pid == 0:
            os.close(control.detach())
            if own_pid_ns >= 0:
                os.close(own_pid_ns)
            try:
                return _run(json.loads(message), fds, bpf)
            except Exception as error:  # noqa: BLE001  (a forked run never goes back to the server's loop)
                _report(fds[2], f"zygote: {error!r}")
                os._exit(125)
        for fd in fds:
            os.close(fd)


def _set_up(control_fd: int) -> tuple[socket.socket, bytes, int]:
    """Read the setup, import what every program needs, answer ``ready`` with the socket to use from now on; that
    socket, the seccomp filter, and an fd of the server's own pid namespace (-1 when runs get none)."""
    inherited = socket.socket(fileno=control_fd)
    setup = json.loads(inherited.recv(1 << 20))
    for name in setup["preload"]:
        __import__(name)
    for name, source in setup["modules"].items():  # trusted modules given by the sandbox's owner
        module = types.ModuleType(name)
        exec(compile(source, f"{name}.py", "exec"), module.__dict__)
        sys.modules[name] = module
    gc.freeze()  # what the server made stays out of its runs' collections (fewer pages copied on write)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY) if setup["pid_namespace"] else -1
    control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    socket.send_fds(inherited, [b"ready"], [theirs.fileno()])  # a socket only this process holds (bwrap's monitor
    theirs.close()  # holds the inherited one): the host sees the server die when it does
    inherited.close()
    return control, bytes.fromhex(setup["seccomp"]), own_pid_ns


def _can_return_to(own_pid_ns: int) -> bool:
    """Whether this server may unshare a pid namespace for one fork and go back to its own (not in every nested
    user namespace); tried in a throwaway child, since a server stuck in the new one could not fork runs again."""
    probe = os.fork()
    if probe == 0:
        try:
            confine.unshare(confine.CLONE_NEWPID)
            confine.set_pid_namespace(own_pid_ns)
        except OSError:
            os._exit(1)
        os._exit(0)
    return os.waitpid(probe, 0)[1] == 0


def _fork_run(own_pid_ns: int, can_return: bool) -> int:
    """Fork the run's supervisor; with ``own_pid_ns``, as pid 1 of a new pid namespace. 0 in the supervisor."""
    if own_pid_ns < 0:
        return os.fork()
    if not can_return:
        middle = os.fork()  # unshares in a process of its own, and leaves its one child to the server's reaper
        if middle == 0:
            try:
                confine.unshare(confine.CLONE_NEWPID)
                if os.fork() != 0:
                    os._exit(0)
            except OSError:
                os._exit(125)
        return middle
    confine.unshare(confine.CLONE_NEWPID)
    try:
        pid = os.fork()
    except OSError:
        confine.set_pid_namespace(own_pid_ns)
        raise
    if pid != 0:
        confine.set_pid_namespace(own_pid_ns)
    return pid


def _run(config: dict, fds: list, bpf: bytes) -> bytes:
    """The supervisor: set up the run's namespaces, fork the program's process; in it, return the program."""
    stdin, stdout, stderr, started, lifeline, status, *cgroups = fds
    try:
        confine.join_cgroups(cgroups)
        for fd in cgroups:
            os.close(fd)
        confine.unshare(config["unshare"])
        if config["unshare"] & confine.CLONE_NEWNS:
            confine.mount_private(config["mounts"])
        confine.not_dumpable()
        for number in (signal.SIGCHLD, signal.SIGINT):  # as pid 1, a signal the program sends it is then ignored
            signal.signal(number, signal.SIG_DFL)
        program = os.fork()
    except OSError as error:
        _report(stderr, f"zygote: {error}")
        os._exit(125)
    if program == 0:
        return _confine(config, (stdin, stdout, stderr), started, bpf)
    for fd in (stdin, stdout, stderr, started):
        os.close(fd)
    try:
        _supervise(program, lifeline, status, config["pid_namespace"])
    finally:
        os._exit(0)


def _supervise(program: int, lifeline: int, status: int, pid_namespace: bool) -> None:
    """Report the program's exit code; return when the run is over (see the module doc)."""
    exited = os.pidfd_open(program)
    code = None
    while code is None:
        ready = select.select([lifeline, exited], [], [], REAP_S if pid_namespace else None)[0]
        if lifeline in ready:
            break
        code = _reap(program) if pid_namespace else _exit_code(exited)
    if code is not None:
        _report(status, str(code))
        if not pid_namespace:
            select.select([lifeline], [], [])  # what the program left running lives until the host ends the run
    if not pid_namespace:  # the program is still unreaped: its pid, the group's id, cannot have been reused
        with contextlib.suppress(ProcessLookupError):
            os.killpg(program, signal.SIGKILL)


def _reap(program: int) -> int | None:
    """Reap every exited child (as pid 1, orphans come here); the program's exit code once it is among them."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return None
        if pid == program:
            return os.waitstatus_to_exitcode(wait_status)


def _exit_code(exited: int) -> int | None:
    """The exit code of the program behind the pidfd ``exited``, leaving it unreaped."""
    info = os.waitid(os.P_PIDFD, exited, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _confine(config: dict, stdio: tuple, started: int, bpf: bytes) -> bytes:
    """The program's process: confine it (see the module doc), then read its program."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        os.setsid()
        for fd, number in zip(stdio, (0, 1, 2), strict=True):
            os.dup2(fd, number)
        os.dup2(started, 3)
        os.closerange(4, os.sysconf("SC_OPEN_MAX"))
        confine.set_rlimits(config["rlimits"])
        confine.drop_privileges(config["uid"])
        with open("/proc/self/oom_score_adj", "w") as f:  # once its own again (dumpable), before Landlock hides it
            f.write("1000")
        if config["landlock"]:
            confine.landlock(config["landlock"]["read"], config["landlock"]["write"])
        if bpf:
            confine.seccomp(bpf)
        os.chdir(config["cwd"])
        os.environ.clear()
        os.environ.update(config["env"])
    except (OSError, ValueError) as error:  # ValueError: a limit above the server's own (setrlimit)
        _report(2, f"zygote: {error}")
        os._exit(125)
    os.write(3, b"started")
    os.close(3)
    return _exactly(int(_exactly(HEADER_BYTES)))


def _exactly(n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:  # the program never fully arrived: not a run that could look like a success
            os._exit(125)
        data += chunk
    return data


def _report(fd: int, line: str) -> None:
    with contextlib.suppress(OSError):  # the host has gone: nobody to tell
        os.write(fd, (line + "\n").encode())


def run_as_main(source: bytes) -> None:
    """Run a program as ``__main__`` and end the process as the interpreter would (threads joined, atexit hooks,
    the program's globals released, output flushed; the exit code of ``SystemExit``, a traceback and 1 for any
    other exception), then ``os._exit``: the interpreter's teardown of every module this server imported would
    cost more CPU than most programs (~5 ms)."""
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    sys.argv[:] = [""]
    try:
        exec(compile(source.decode("utf-8"), "<program>", "exec"), module.__dict__)
        code = 0
    except SystemExit as exit:
        code = _exit_status(exit.code)
    except BaseException:  # noqa: BLE001  (the program's, whatever it raised: reported as the interpreter would)
        sys.excepthook(*sys.exc_info())
        code = 1
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    atexit._run_exitfuncs()
    module.__dict__.clear()  # what the interpreter's teardown releases first: files the program left open flush
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001  (the program's stream, or a closed pipe)
            code = 120 if stream is sys.stdout and code == 0 else code
    os._exit(code)


def _exit_status(code) -> int:
    """The exit status of ``SystemExit(code)``, as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    _program = main(int(sys.argv[1]))
    if _program is not None:  # a run's program process, confined
        run_as_main(_program)
