"""For code tasks: did any answer reach the host? A file written outside the sandbox, a connection to a port on the
host, a process that outlived its attempt.

Only what this validation planted is looked at (a test looks at its own processes and files): the canaries carry a
mark unique to this run, in the file names they write, in the command line of the process they leave behind
(``sleep <mark>``) and as the host port they connect to (a listener opened here), so other work on the machine can
never make the check fail, and a check that finds nothing found nothing of ours.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from score_env.validate.canaries import Probe, program

SETTLE_S = 10.0  # how long a planted process may take to be reaped after the last answer


@dataclass
class HostWatch:
    """The mark, the listener and what they saw."""

    mark: str
    port: int
    connections: int = 0
    places: tuple[Path, ...] = field(default_factory=tuple)

    def probes(self, entry_point: str) -> list[Probe]:
        """The canaries that try to touch the host (a file, a connection), for the code family."""
        signature = f"def {entry_point}(*args, **kwargs):"
        files = ", ".join(repr(str(p)) for p in self.places)
        write = f"for path in ({files},):\n    try:\n        open(path, 'w').write('x')\n    except Exception:\n        pass"  # noqa: E501
        connect = (
            f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {self.port}), timeout=2).sendall(b'x')\n"
            "except Exception:\n    pass"
        )
        return [
            Probe("writing a file on the host", program(f"{write}\n{signature}\n    return None"), once=True),
            Probe("a connection to the host", program(f"{connect}\n{signature}\n    return None"), once=True),
        ]

    def effects(self) -> list[str]:
        """What reached the host: files, connections, processes (after waiting for the sandbox to reap them)."""
        found = [f"a file was written on the host: {p}" for p in self.places if p.exists()]
        if self.connections:
            found.append(f"{self.connections} connection(s) reached the host's port {self.port}")
        deadline = time.monotonic() + SETTLE_S
        while (alive := processes_marked(self.mark)) and time.monotonic() < deadline:
            time.sleep(0.2)
        found += [f"a process outlived its attempt: pid {pid} (sleep {self.mark})" for pid in alive]
        return found


def processes_marked(mark: str) -> list[int]:
    """Live processes whose command line is ``sleep <mark>``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].rsplit(b"/", 1)[-1] == b"sleep" and argv[1] == mark.encode():
            found.append(int(entry.name))
    return found


@contextmanager
def watch_host() -> Iterator[HostWatch]:
    """A mark, the places a canary would write, and a listener on the host counting who connects."""
    mark = f"{600 + random.SystemRandom().random():.9f}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    name = f"score-validate-{mark}"
    places = (Path("/tmp") / name, Path.cwd() / name, Path.home() / name)
    watch = HostWatch(mark, listener.getsockname()[1], places=places)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            watch.connections += 1
            connection.close()

    thread = threading.Thread(target=accept, name="score-env-validate-listener", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join(1.0)
        listener.close()
        for path in places:
            if path.exists():
                path.unlink(missing_ok=True)
        for pid in processes_marked(mark):
            with suppress(OSError):
                os.kill(pid, 9)
