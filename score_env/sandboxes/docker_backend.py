"""The ``docker`` backend: a locally built minimal image, no network, read-only root, no capabilities, limits.

Covers: ``network none``; a read-only root file system with tmpfs ``/tmp``, ``/work`` and ``/dev/shm`` of
``disk_mb`` each (the run's disk quota); uid/gid 65534; all capabilities dropped; ``no-new-privileges``; memory (no
swap), pids and CPU limits; CPU-time and file-size rlimits; bounded logs; a wall-clock limit after which the
container is killed and removed (killing the client would not stop it). The image holds the standard library only
(no datasets, no site-packages). The program is sent over the attach stream, so nothing on the host is shared with
the container. An optional warm pool (``pool_size``) runs programs with ``docker exec`` in pre-started containers,
and recycles a container after any run that did not end ``ok`` or that left a process behind.

Does NOT cover: kernel exploits (containers share the host kernel; the default seccomp profile of Docker applies);
the image is whatever ``score-env-sandbox:latest`` is (``.ci/docker_up.sh`` builds it from a debootstrapped minimal
Debian); in the warm pool, runs in the same container share its ``/tmp`` (a leftover file can be seen by a later run).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import threading
from typing import Any

from score_env.sandboxes.result import ExecutionResult, IsolationUnavailable, Limits, Status
from score_env.sandboxes.session import Ended, Session

IMAGE = "score-env-sandbox:latest"
USER = "65534:65534"
IDLE_PROCESSES = 2  # in a warm container between runs: docker-init and `sleep infinity`
# Sets the rlimits, reads the program (length-prefixed) from stdin, then becomes it; what follows on stdin is the
# program's stdin. argv: CPU soft and hard limits (s), largest file (bytes).
BOOT = (
    "import os, resource, sys\n"
    "soft, hard, fsize = (int(a) for a in sys.argv[1:4])\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "def read(n):\n"
    "    data = b''\n"
    "    while len(data) < n:\n"
    "        chunk = os.read(0, n - len(data))\n"
    "        if not chunk:\n"
    "            break\n"
    "        data += chunk\n"
    "    return data\n"
    "os.chdir('/work')\n"
    "open('/work/main.py', 'wb').write(read(int(read(16))))\n"
    "os.execv(sys.executable, [sys.executable, '-I', '-S', '/work/main.py'])\n"
)


def docker_unavailable_reason(image: str = IMAGE) -> str | None:
    """Why the docker backend cannot run here, or None when it can."""
    try:
        import docker
    except ImportError:
        return "the docker Python SDK is not installed"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as error:  # noqa: BLE001  (any failure to reach the daemon means: unavailable)
        return f"no Docker engine reachable ({type(error).__name__}); start dockerd (.ci/docker_up.sh)"
    try:
        client.images.get(image)
    except Exception:  # noqa: BLE001
        return f"image {image} is not built (.ci/docker_up.sh builds it)"
    return None


class DockerSandbox:
    """Runs Python programs in throwaway containers (or a warm pool of them)."""

    name = "docker"
    isolated = True
    slow_start = True  # a container per run (unless pool_size)

    def __init__(self, image: str = IMAGE, pool_size: int = 0, limits: Limits = Limits()):
        import docker

        if reason := docker_unavailable_reason(image):
            raise IsolationUnavailable(f"sandbox=docker: {reason}")
        self.api = docker.from_env(timeout=60).api
        self.image = image
        self.pool_limits = limits  # warm containers are created with these limits
        self._pool: list[str] = []
        self._lock = threading.Lock()
        for _ in range(pool_size):
            self._pool.append(self._create(["sleep", "infinity"], limits, start=True))

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        try:
            session = self.start(program, limits=limits)
        except Exception as error:  # noqa: BLE001  (the sandbox boundary: a Docker failure is an `error` result)
            return ExecutionResult(Status.ERROR, None, "", "", 0.0, detail=f"docker: {type(error).__name__}: {error}")
        return session.run_to_end(stdin.encode())

    def start(self, program: str, *, limits: Limits = Limits()) -> Session:
        soft, hard = limits.cpu_s
        command = ["python3", "-I", "-S", "-c", BOOT, str(soft), str(hard), str(limits.max_file_mb << 20)]
        payload = f"{len(program.encode()):016d}".encode() + program.encode()
        warm = self._take() if limits == self.pool_limits else None
        if warm is None:
            container = self._create(command, limits, start=False)
            try:
                sock = self.api.attach_socket(container, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
                self.api.start(container)
            except Exception:
                self._remove(container)
                raise
            return Session(_Container(self, container, sock, payload, None), limits)
        exec_id = self.api.exec_create(warm, command, stdin=True, user=USER, workdir="/work")["Id"]
        sock = self.api.exec_start(exec_id, socket=True)
        return Session(_Container(self, warm, sock, payload, exec_id), limits)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for container in pool:
            self._remove(container)

    def _create(self, command: list[str], limits: Limits, *, start: bool) -> str:
        from docker.types import LogConfig

        disk = f"rw,size={limits.disk_mb}m,mode=1777"
        host = self.api.create_host_config(
            network_mode="none",
            init=True,  # docker-init as pid 1: the program gets SIGXCPU (pid 1 ignores it) and leftovers are reaped
            read_only=True,
            tmpfs={"/tmp": disk, "/work": disk},
            shm_size=f"{limits.disk_mb}m",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            pids_limit=limits.max_processes,
            nano_cpus=int(limits.cpus * 1e9),
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        )
        config = self.api.create_container_config(
            # No working_dir: setting it makes Docker create /work root-owned, overriding the tmpfs mode.
            self.image,
            command,
            user=USER,
            stdin_open=True,
            network_disabled=True,
            host_config=host,
            environment={"PATH": "/usr/bin:/bin", "HOME": "/work"},
        )
        config["StdinOnce"] = True  # closing our end of the attach stream closes the program's stdin
        container = self.api.create_container_from_config(config)["Id"]
        if start:
            self.api.start(container)
        return container

    def _take(self) -> str | None:
        with self._lock:
            return self._pool.pop() if self._pool else None

    def _give_back(self, container: str) -> None:
        with self._lock:
            self._pool.append(container)

    def _recycle(self, container: str) -> None:
        """A timed-out, failed or dirty warm container is never reused: replace it."""
        self._remove(container)
        self._give_back(self._create(["sleep", "infinity"], self.pool_limits, start=True))

    def _remove(self, container: str) -> None:
        from docker.errors import NotFound

        with contextlib.suppress(NotFound):  # already gone
            self.api.remove_container(container, force=True)


class _Container:
    """One run as a :class:`~sandboxes.session.Program`: the attach (or exec) stream, demultiplexed into two pipes.

    A thread copies the stream's stdout and stderr frames into two local pipes the session reads; it always reads
    to EOF (Docker does not finish killing or removing a container whose output waits to be copied to a client).
    """

    def __init__(self, owner: DockerSandbox, container: str, sock: Any, payload: bytes, exec_id: str | None):
        self._owner, self._container, self._exec_id, self._code = owner, container, exec_id, None
        self._sock, self._raw = sock, getattr(sock, "_sock", sock)
        self._raw.settimeout(30)
        self._raw.sendall(payload)  # the program itself; the session sends its stdin after it
        self._raw.setblocking(False)
        out_r, self._out_w = os.pipe()
        err_r, self._err_w = os.pipe()
        self.stdin, self.stdout, self.stderr = self._raw.fileno(), out_r, err_r
        for fd in (out_r, err_r, self._out_w, self._err_w):
            os.set_blocking(fd, False)
        self._done = threading.Event()
        self._killed = False
        self._thread = threading.Thread(target=self._demux, daemon=True)
        self._thread.start()

    def poll(self) -> int | None:
        if not self._done.is_set():
            return None
        if self._code is None:
            api = self._owner.api
            if self._exec_id is not None:
                code = api.exec_inspect(self._exec_id)["ExitCode"]
            else:
                code = api.wait(self._container, timeout=10)["StatusCode"]
            # docker-init (and docker exec) report a program killed by signal N as 128 + N: read it back as -N.
            self._code = 128 - code if 128 < code < 128 + 65 else code
        return self._code

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_WR)

    def kill(self) -> None:
        if not self._killed and not self._done.is_set():
            self._killed = True  # first: the demux thread stops waiting on full pipes (the daemon waits on it)
            with contextlib.suppress(Exception):  # already stopped
                self._owner.api.kill(self._container)

    def end(self) -> Ended:
        for fd in (self.stdout, self.stderr):
            os.close(fd)  # first: a demux thread blocked on a full pipe moves on, discarding the rest
        self._thread.join(timeout=30)
        self._raw.close()
        if self._raw is not self._sock:
            self._sock.close()
        try:
            code = self.poll() if self._done.is_set() and not self._killed else None
            if self._exec_id is None:
                oom = self._owner.api.inspect_container(self._container)["State"].get("OOMKilled", False)
                self._owner._remove(self._container)
                return Ended(code, bool(oom))
            clean = code == 0 and len(self._owner.api.top(self._container)["Processes"]) == IDLE_PROCESSES
            (self._owner._give_back if clean else self._owner._recycle)(self._container)
            return Ended(code)
        except Exception as error:  # noqa: BLE001  (the sandbox boundary: a Docker failure is an `error` result)
            return Ended(None, sandbox_error=f"docker: {type(error).__name__}: {error}")

    def _demux(self) -> None:
        buffer = bytearray()
        sinks = {1: self._out_w, 2: self._err_w}
        closed: set[int] = set()
        try:
            while True:
                try:
                    chunk = self._raw.recv(65536)
                except BlockingIOError:
                    _wait(self._raw.fileno(), select.POLLIN, 0.5)
                    continue
                if not chunk:
                    break
                buffer.extend(chunk)
                while len(buffer) >= 8:  # frame: stream (1 stdout, 2 stderr), 3 zero bytes, big-endian size
                    kind, size = buffer[0], struct.unpack(">I", bytes(buffer[4:8]))[0]
                    if len(buffer) < 8 + size:
                        break
                    sink = sinks.get(kind, self._err_w)
                    if sink not in closed and not self._copy(sink, bytes(buffer[8 : 8 + size])):
                        closed.add(sink)  # the session stopped reading: keep draining the stream, drop the bytes
                    del buffer[: 8 + size]
        except OSError:
            pass  # the socket broke: the stream is over
        finally:
            os.close(self._out_w)
            os.close(self._err_w)
            self._done.set()

    def _copy(self, fd: int, data: bytes) -> bool:
        """Write to a pipe the session reads, waiting while it is full (back-pressure: the container waits while the
        session does), until the run is killed; False when the bytes are to be dropped from now on."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                if self._killed:
                    return False
                _wait(fd, select.POLLOUT, 0.05)
            except OSError:  # EPIPE: the read end is closed
                return False
        return True


def _wait(fd: int, event: int, timeout_s: float) -> None:
    poller = select.poll()  # not select.select: a busy host may hand out descriptors past 1024
    poller.register(fd, event)
    poller.poll(timeout_s * 1000)
