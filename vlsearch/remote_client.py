"""The CLI's way into a running `vlsearch serve`: Milvus Lite allows one process per data dir, so
while the server owns it, `vlsearch ingest --api URL` and `vlsearch search --api URL` go through
its HTTP API instead of opening the store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from vlsearch.catalog import FileResult, FileStatus, JobStatus
from vlsearch.errors import VlsearchError
from vlsearch.ingest.paths import name_problem, shown_name

_BATCH_FILES = 16  # files per upload request (the server caps a request at 4x the per-file limit)


class ApiClientError(VlsearchError):
    code = "api_error"


class ApiClient:
    def __init__(self, *, url: str, api_key: str = "", timeout_s: float = 120.0) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def ingest(
        self, files: Sequence[Path], *, groups: Sequence[str], progress: Callable[[FileResult], None]
    ) -> list[FileResult]:
        """Upload in batches, one ingest job each; report every file's result as the job runs."""
        results: list[FileResult] = []
        sendable = []
        for path in files:  # a name the server could not store fails here, alone
            problem = name_problem(path)
            if problem is None:
                sendable.append(path)
                continue
            results.append(FileResult(shown_name(path), FileStatus.FAILED, None, problem, 0))
            progress(results[-1])
        files = sendable
        for start in range(0, len(files), _BATCH_FILES):
            batch = files[start : start + _BATCH_FILES]
            handles = [path.open("rb") for path in batch]
            try:
                resp = self._http.post(
                    "/v1/documents",
                    files=[("files", (p.name, fh)) for p, fh in zip(batch, handles, strict=True)],
                    data={"groups": ",".join(groups)},
                )
            finally:
                for fh in handles:
                    fh.close()
            job_id = self._json(resp)["job_id"]
            results.extend(self._follow(job_id, progress))
        return results

    def search(self, body: dict[str, Any], *, image: Path | None, video: Path | None) -> dict[str, Any]:
        if image is None and video is None:
            return self._json(self._http.post("/v1/search", json=body))
        form = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in body.items() if v is not None
        }
        files = {}
        if image is not None:
            files["image"] = (image.name, image.read_bytes())
        if video is not None:
            files["video"] = (video.name, video.read_bytes())
        return self._json(self._http.post("/v1/search/upload", data=form, files=files))

    def _follow(self, job_id: str, progress: Callable[[FileResult], None]) -> list[FileResult]:
        seen = 0
        while True:
            job = self._json(self._http.get(f"/v1/jobs/{job_id}"))
            rows = job.get("results", [])
            for row in rows[seen:]:
                progress(_file_result(row))
            seen = len(rows)
            if job["status"] in (JobStatus.DONE, JobStatus.FAILED):
                return [_file_result(r) for r in rows]
            time.sleep(0.5)

    @staticmethod
    def _json(resp: httpx.Response) -> dict[str, Any]:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ApiClientError(
                f"{resp.request.url.path}: HTTP {resp.status_code}: {error.get('message', resp.text[:200])}"
            )
        return body


def _file_result(row: dict[str, Any]) -> FileResult:
    return FileResult(
        name=row["name"],
        status=FileStatus(row["status"]),
        doc_id=row.get("doc_id"),
        error=row.get("error", ""),
        items=row.get("items", 0),
    )
