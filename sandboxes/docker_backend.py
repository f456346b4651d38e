"""The ``docker`` backend: a locally built minimal image, no network, read-only root, no capabilities, limits.

Covers: ``network none``; a read-only root file system with small tmpfs ``/tmp`` and ``/work``; uid/gid 65534; all
capabilities dropped; ``no-new-privileges``; memory (no swap), pids and CPU limits; bounded logs; a wall-clock limit
after which the container is removed (killing the client would not stop it). The program is sent over the attach
stream, so nothing on the host is shared with the container. An optional warm pool (``pool_size``) runs programs with
``docker exec`` in pre-started containers, and recycles a container after any run that did not end ``ok`` or that
left a process behind.

Does NOT cover: kernel exploits (containers share the host kernel; the default seccomp profile of Docker applies);
the image is whatever ``score-env-sandbox:latest`` is (``.ci/docker_up.sh`` builds it from a debootstrapped minimal
Debian); in the warm pool, runs in the same container share its ``/tmp`` (a leftover file can be seen by a later run).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Any

from score_env.sandboxes.capture import Captured
from score_env.sandboxes.result import ExecutionResult, Limits, Status
from score_env.sandboxes.verdict import classify

IMAGE = "score-env-sandbox:latest"
USER = "65534:65534"
# Reads the program (length-prefixed) from stdin, then becomes it; what follows on stdin is the program's stdin.
BOOT = (
    "import os, sys\n"
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
    "os.execv(sys.executable, [sys.executable, '-I', '/work/main.py'])\n"
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

    def __init__(self, image: str = IMAGE, pool_size: int = 0, limits: Limits = Limits()):
        import docker

        if reason := docker_unavailable_reason(image):
            raise RuntimeError(f"docker sandbox unavailable: {reason}")
        self.api = docker.from_env(timeout=60).api
        self.image = image
        self.pool_limits = limits  # warm containers are created with these limits
        self._pool: list[str] = []
        self._lock = threading.Lock()
        for _ in range(pool_size):
            self._pool.append(self._create(["sleep", "infinity"], limits, start=True))

    def run(self, program: str, *, limits: Limits = Limits(), stdin: str = "") -> ExecutionResult:
        payload = f"{len(program.encode()):016d}".encode() + program.encode() + stdin.encode()
        warm = self._take() if limits == self.pool_limits else None
        if warm is None:
            return self._run_cold(payload, limits)
        return self._run_warm(warm, payload, limits)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for container in pool:
            self._remove(container)

    def _run_cold(self, payload: bytes, limits: Limits) -> ExecutionResult:
        container = self._create(["python3", "-I", "-S", "-c", BOOT], limits, start=False)
        try:
            sock = self.api.attach_socket(container, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            start = time.monotonic()
            self.api.start(container)
            captured = self._drive(
                container,
                sock,
                payload,
                limits,
                start,
                lambda: self.api.wait(container, timeout=max(1, limits.timeout_s))["StatusCode"],
            )
            oom = self.api.inspect_container(container)["State"].get("OOMKilled", False)
            return classify(captured, limits, oom_killed=oom)
        except Exception as error:  # noqa: BLE001  (the sandbox boundary: a Docker failure is an `error` result)
            return ExecutionResult(Status.ERROR, None, "", "", 0.0, detail=f"docker: {type(error).__name__}: {error}")
        finally:
            self._remove(container)

    def _run_warm(self, container: str, payload: bytes, limits: Limits) -> ExecutionResult:
        result = None
        try:
            exec_id = self.api.exec_create(
                container, ["python3", "-I", "-S", "-c", BOOT], stdin=True, user=USER, workdir="/work"
            )["Id"]
            start = time.monotonic()
            captured = self._drive(
                container,
                self.api.exec_start(exec_id, socket=True),
                payload,
                limits,
                start,
                lambda: self.api.exec_inspect(exec_id)["ExitCode"],
            )
            result = classify(captured, limits)
            return result
        except Exception as error:  # noqa: BLE001
            result = ExecutionResult(Status.ERROR, None, "", "", 0.0, detail=f"docker: {type(error).__name__}: {error}")
            return result
        finally:
            clean = result is not None and result.ok and len(self.api.top(container)["Processes"]) == 1
            if clean:
                self._give_back(container)
            else:  # recycle: a timed-out, failed or dirty container is never reused
                self._remove(container)
                self._give_back(self._create(["sleep", "infinity"], self.pool_limits, start=True))

    def _drive(
        self, container: str, sock: Any, payload: bytes, limits: Limits, start: float, exit_code: Any
    ) -> Captured:
        """Feed the payload, read until the program ends, the deadline or the output cap; kill on the last two."""
        stream = _Stream(sock, payload, limits)
        ended = stream.wait(start + limits.timeout_s)
        if not ended or stream.exceeded.is_set():
            self.api.kill(container)
        stream.close()
        captured = stream.captured(start, timed_out=not ended)
        if ended and not stream.exceeded.is_set():
            captured = _with_code(captured, exit_code())
        return captured

    def _create(self, command: list[str], limits: Limits, *, start: bool) -> str:
        from docker.types import LogConfig

        host = self.api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": "rw,size=64m,mode=1777", "/work": "rw,size=16m,mode=1777"},
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

    def _remove(self, container: str) -> None:
        from docker.errors import NotFound

        with contextlib.suppress(NotFound):  # already gone
            self.api.remove_container(container, force=True)


class _Stream:
    """Sends the payload, then reads the multiplexed output in a thread until EOF, always draining it.

    The reader never stops before EOF (it only stops *keeping* bytes past the cap): Docker does not finish killing
    or removing a container whose output is waiting to be copied to an attached client.
    """

    def __init__(self, sock: Any, payload: bytes, limits: Limits):
        self.raw: socket.socket = getattr(sock, "_sock", sock)
        self.sock, self.cap = sock, limits.max_output_bytes
        self.out, self.err, self.total = bytearray(), bytearray(), 0
        self.exceeded, self.done = threading.Event(), threading.Event()
        self.raw.sendall(payload)
        self.raw.shutdown(socket.SHUT_WR)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def wait(self, deadline: float) -> bool:
        """Until EOF, the cap or ``deadline``; True when the stream ended on its own."""
        while time.monotonic() < deadline and not self.exceeded.is_set():
            if self.done.wait(timeout=0.05):
                return True
        return False

    def close(self) -> None:
        self.thread.join(timeout=10)
        self.raw.close()
        if self.raw is not self.sock:
            self.sock.close()

    def captured(self, start: float, timed_out: bool) -> Captured:
        out = bytes(self.out[: self.cap])
        err = bytes(self.err[: max(0, self.cap - len(out))])
        exceeded = self.exceeded.is_set()
        return Captured(None, out, err, time.monotonic() - start, timed_out and not exceeded, exceeded)

    def _read(self) -> None:
        buffer = bytearray()
        try:
            while chunk := self.raw.recv(65536):
                buffer.extend(chunk)
                while len(buffer) >= 8:  # frame: stream (1 stdout, 2 stderr), 3 zero bytes, big-endian size
                    kind, size = buffer[0], struct.unpack(">I", bytes(buffer[4:8]))[0]
                    if len(buffer) < 8 + size:
                        break
                    self.total += size
                    if self.total <= self.cap + 65536:
                        (self.err if kind == 2 else self.out).extend(buffer[8 : 8 + size])
                    del buffer[: 8 + size]
                if self.total > self.cap:
                    self.exceeded.set()
        except OSError:
            pass
        finally:
            self.done.set()


def _with_code(captured: Captured, code: int) -> Captured:
    return Captured(code, captured.stdout, captured.stderr, captured.duration_s, False, False)
