"""Uploads that fail keep nothing: no spooled files after a refused multi-file upload, and no memory
after failed large uploads (they stream to disk and to the extraction worker; the error path holds
no reference cycle that only a garbage collection would free)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import httpx

from tests.api.server import LiveServer, wait_for_job
from tests.hostile.conftest import KEY_A, UPLOAD_MB


def _scratch(api: LiveServer) -> list[str]:
    return sorted(p.name for p in (api.settings.data_dir / "tmp" / "api").iterdir())


def test_refused_multi_file_uploads_leave_no_spooled_files(api: LiveServer, tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as fh:
        fh.truncate((UPLOAD_MB + 2) << 20)
    with api.client(KEY_A) as client, big.open("rb") as fh:
        files = [("files", ("a.md", b"# A\n\nfirst\n")), ("files", ("b.md", b"# B\n\nsecond\n"))]
        resp = client.post("/v1/documents", files=[*files, ("files", ("big.md", fh))])
        assert resp.status_code == 413 and "VLSEARCH_MAX_FILE_MB" in resp.json()["error"]["message"]
        assert _scratch(api) == []
        resp = client.post("/v1/documents", files=files, data={"groups": "beta"})  # not alpha's to give
        assert resp.status_code == 403 and _scratch(api) == []


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        line = next(line for line in fh if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_failed_large_uploads_do_not_hold_memory(api: LiveServer, tmp_path: Path) -> None:
    """The server runs in this process: its resident memory may not grow with each failed upload.
    The collector is off meanwhile, so memory only a collection would free counts as held."""
    junk = tmp_path / "junk.bin"
    with junk.open("wb") as fh:
        fh.write(b"\x01\x02\x03junk" + os.urandom(UPLOAD_MB << 20))  # no known signature: refused

    def fail_once(client: httpx.Client) -> None:
        with junk.open("rb") as fh:
            resp = client.post("/v1/documents", files=[("files", ("junk.bin", fh))])
        job = wait_for_job(client, resp.json()["job_id"])
        assert job["results"][0]["status"] == "failed" and "unsupported" in job["results"][0]["error"]

    with api.client(KEY_A) as client:
        fail_once(client)  # warm-up: the extraction worker, the catalog, the first job
        gc.collect()
        gc.disable()
        try:
            before = _rss_mb()
            for _ in range(5):
                fail_once(client)
            grown = _rss_mb() - before
        finally:
            gc.enable()
    # five failures of a 24 MB file: holding each upload's bytes would be about 120 MB
    assert grown < UPLOAD_MB, f"resident memory grew {grown:.0f} MB over 5 failed {UPLOAD_MB} MB uploads"
