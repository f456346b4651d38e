"""The conformance suite: one adversarial program per property, against every backend this machine has.

For each: the host is unharmed, nothing is left running, the call returns within its limit, the verdict is right.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from pathlib import Path

import pytest

from score_env.sandboxes import Limits, Status
from tests.sandboxes.conftest import run_checked


def test_ok_program(backend):
    result = run_checked(backend, "print(sum(range(10)))")
    assert (result.status, result.exit_code, result.stdout) == (Status.OK, 0, "45\n")


def test_failing_program(backend):
    result = run_checked(backend, "raise ValueError('no')")
    assert result.status is Status.FAILED and result.exit_code == 1 and "ValueError: no" in result.stderr


def test_output_that_is_not_utf8_keeps_its_bytes_escaped(backend):
    program = "import os\nos.write(1, b'a\\xff\\x00b\\n')\nos.write(2, b'\\xed\\xa0\\x80')\n"
    result = run_checked(backend, program)
    assert result.stdout == "a\\xff\x00b\n" and result.stderr == "\\xed\\xa0\\x80", result
    assert (result.stdout + result.stderr).encode("utf-8")  # never a lone surrogate: always writable


def test_infinite_loop(backend):
    result = run_checked(backend, "while True: pass", Limits(timeout_s=1))
    assert result.status is Status.TIMEOUT and "CPU time" in result.detail


def test_long_sleep(backend):
    assert (
        run_checked(backend, "import time\ntime.sleep(600)", Limits(timeout_s=1, wall_timeout_s=2)).status
        is Status.TIMEOUT
    )


def test_fork_bomb(backend):
    program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = run_checked(backend, program, Limits(timeout_s=2, wall_timeout_s=3, max_processes=16))
    assert result.status in (Status.TIMEOUT, Status.FAILED)


def test_setsid_double_fork_escapee_is_killed(backend):
    program = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(120)\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )
    result = run_checked(backend, program)  # run_checked fails if the grandchild is still alive
    assert result.status is Status.OK


def test_memory_bomb(backend):
    program = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024 * 1024))\n"
    assert run_checked(backend, program, Limits(timeout_s=5, memory_mb=128)).status is Status.MEMORY


def test_memory_bomb_across_children_is_reported_as_memory(backend):
    # Each child stays under the per-process limit; together they pass the run's. The cgroup's OOM kill is read
    # from oom_kill (v1: memory.oom_control, v2: memory.events), not from a MemoryError.
    if not backend.memory_per_run:
        pytest.skip(f"{backend.sandbox.name} caps memory per process only here (see its docstring)")
    program = (
        "import os\nkids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n"
        "        block = bytearray(64 << 20)\n        block[::4096] = b'x' * len(block[::4096])\n"
        "        import time; time.sleep(1)\n        os._exit(0)\n    kids.append(pid)\n"
        "for pid in kids:\n    os.waitpid(pid, 0)\n"
    )
    result = run_checked(backend, program, Limits(timeout_s=5, memory_mb=128))
    assert result.status is Status.MEMORY and "OOM" in result.detail, result


def test_stdout_flood(backend):
    result = run_checked(backend, "while True:\n    print('x' * 1000)", Limits(timeout_s=5, max_output_bytes=10_000))
    assert result.status is Status.OUTPUT_LIMIT and result.truncated
    assert len(result.stdout) + len(result.stderr) <= 10_000


def test_socket_to_loopback_gets_nowhere(backend):
    if not backend.network_isolated:
        pytest.skip(f"{backend.sandbox.name} does not claim network isolation (see its docstring)")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted: list[object] = []
    thread = threading.Thread(target=lambda: _accept(server, accepted))
    thread.start()
    program = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    result = run_checked(backend, program)
    thread.join()
    server.close()
    assert result.status is Status.FAILED and "connected" not in result.stdout and not accepted


def _accept(server: socket.socket, accepted: list[object]) -> None:
    with contextlib.suppress(OSError):
        accepted.append(server.accept())


def test_socket_to_an_outside_address_gets_nowhere(backend):
    if not backend.network_isolated:
        # Not run: without isolation this would send a packet off the machine.
        pytest.skip(f"{backend.sandbox.name} does not claim network isolation (see its docstring)")
    program = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)\nprint('connected')"
    result = run_checked(backend, program)
    assert result.status is Status.FAILED and "connected" not in result.stdout


def test_writes_outside_the_work_dir_do_not_land(backend, tmp_path):
    if not backend.filesystem_isolated:
        pytest.skip(f"{backend.sandbox.name} does not claim file-system isolation when not root")
    target = tmp_path / f"pwned-{secrets.token_hex(4)}"
    home = Path.home() / f"pwned-{secrets.token_hex(4)}"
    attempts = [f"try:\n    open({str(p)!r}, 'w').write('x')\nexcept OSError:\n    pass" for p in (target, home)]
    program = "\n".join(attempts)
    result = run_checked(backend, program)
    assert result.status is Status.OK and not target.exists() and not home.exists()


def test_cannot_read_the_parents_environment_or_home(backend, tmp_path, monkeypatch):
    if not backend.filesystem_isolated:
        pytest.skip(f"{backend.sandbox.name} does not claim file-system isolation when not root")
    secret = secrets.token_hex(8)
    monkeypatch.setenv("SCORE_SANDBOX_SECRET", secret)
    secret_file = Path.home() / f".score-secret-{secret[:6]}"
    secret_file.write_text(secret)
    secret_file.chmod(0o600)
    program = (
        "import os\nprint(dict(os.environ))\n"
        "for path in ['/proc/%d/environ' % os.getppid(), '/proc/1/environ', " + repr(str(secret_file)) + "]:\n"
        "    try:\n        print(open(path, 'rb').read())\n    except OSError as e:\n        print('denied', e)\n"
        "try:\n    print(os.listdir(" + repr(str(Path.home())) + "))\nexcept OSError as e:\n    print('denied', e)\n"
    )
    try:
        result = run_checked(backend, program)
    finally:
        secret_file.unlink()
    assert result.status is Status.OK
    assert secret not in result.stdout + result.stderr
    assert f"'{secret_file.name}'" not in result.stdout  # the home directory could not be listed


def test_cannot_kill_the_parent(backend):
    me = os.getpid()
    program = (
        f"import os, signal\nfor pid in (os.getppid(), {me}, 1):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
    )
    result = run_checked(backend, program)
    assert result.status in (Status.OK, Status.FAILED)  # and this test process is still here to assert it
