"""Searches keep answering while a large upload ingest runs; concurrent uploads of one file stay one document.

``VLSEARCH_LOAD_FILES`` (default 120) sets the ingest size here; the 1,000-file run is
benchmarks/load_during_ingest.py.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.api.server import LiveServer, wait_for_job
from tests.load.driver import search_during_ingest, write_notes

FILES = int(os.environ.get("VLSEARCH_LOAD_FILES", "120"))


def test_searches_answer_during_a_large_ingest_and_never_show_half_ingested_documents(
    load_server: LiveServer, tmp_path: Path
) -> None:
    paths = write_notes(tmp_path / "notes", FILES)
    report = search_during_ingest(load_server.url, paths, searchers=2, batch=40)
    summary = report.summary()
    print(f"\nsearch during ingest of {FILES} files: {summary}")
    assert report.ingested == FILES, summary
    assert not report.errors, report.errors[:5]
    assert report.searches >= 10, "too few searches overlapped the ingest to mean anything"
    assert report.hits_checked > 0
    assert not report.not_ready_hits, report.not_ready_hits[:10]
    with load_server.client() as client:
        # A note's token finds that note once the ingest is done.
        hits = client.post("/v1/search", json={"text": f"ldtok{FILES - 1:04d}", "top_k": 3}).json()["results"]
        assert hits and hits[0]["document"]["name"] == f"note-{FILES - 1:04d}.md", hits[:1]


@pytest.mark.parametrize("groups", ["", "ops"])
def test_parallel_uploads_of_one_file_make_one_document_with_one_set_of_rows(
    load_server: LiveServer, tmp_path: Path, groups: str
) -> None:
    path = write_notes(tmp_path, 1, prefix=f"same-{groups or 'none'}")[0]
    body = path.read_bytes()

    def post() -> str:
        with load_server.client() as client:
            data = {"groups": groups} if groups else {}
            resp = client.post("/v1/documents", files=[("files", (path.name, body))], data=data)
            assert resp.status_code == 202, resp.text
            return str(resp.json()["job_id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        job_ids = list(pool.map(lambda _: post(), range(8)))
    with load_server.client() as client:
        jobs = [wait_for_job(client, job_id) for job_id in job_ids]
        results = [r for job in jobs for r in job["results"]]
        assert len(results) == 8
        assert {r["status"] for r in results} <= {"ingested", "unchanged"}, results
        assert sum(r["status"] == "ingested" for r in results) == 1, results
        assert len({r["doc_id"] for r in results}) == 1
        doc_id = results[0]["doc_id"]
        listed = client.get("/v1/documents", params={"q": path.stem, "limit": 50}).json()
        same = [d for d in listed["documents"] if d["name"] == path.name]
        assert len(same) == 1, listed
        record = client.get(f"/v1/documents/{doc_id}").json()
        assert record["status"] == "ready"
        # The rows search can see for this document are exactly the catalog's item count.
        found = client.post(
            "/v1/search",
            json={"text": path.stem, "top_k": 100, "per_doc_limit": 100, "filters": {"doc_ids": [doc_id]}},
        ).json()["results"]
        assert {h["document"]["id"] for h in found} == {doc_id}
        assert len({h["id"] for h in found}) == record["item_count"] >= 1
