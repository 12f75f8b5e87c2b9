"""A real uvicorn server on a free loopback port, running the app in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from vlsearch.api.app import create_app
from vlsearch.config import Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    settings: Settings
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    @classmethod
    def start(cls, settings: Settings, *, timeout: float = 120.0) -> LiveServer:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn exited during start-up; see the log above")
            if time.monotonic() > deadline:
                server.should_exit = True
                raise TimeoutError(f"server did not start within {timeout} s")
            time.sleep(0.05)
        return cls(settings=settings, url=f"http://127.0.0.1:{port}", server=server, thread=thread)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)

    def client(self, key: str | None = None, *, timeout: float = 120.0) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


def wait_for_job(client: httpx.Client, job_id: str, *, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = client.get(f"/v1/jobs/{job_id}")
        resp.raise_for_status()
        job = resp.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} did not finish within {timeout} s")


def upload(client: httpx.Client, paths: list[Path], *, groups: str = "") -> dict:
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    data = {"groups": groups} if groups else {}
    resp = client.post("/v1/documents", files=files, data=data)
    assert resp.status_code == 202, resp.text
    return wait_for_job(client, resp.json()["job_id"])


def wait_for_model(client: httpx.Client, name: str, *, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/v1/models/{name}").json()
        if info["state"] in ("ready", "failed"):
            return info
        time.sleep(0.2)
    raise TimeoutError(f"model {name} did not load within {timeout} s")
