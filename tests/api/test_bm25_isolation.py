"""Issue 15, item 2, as it was found: group B's search results and every score they expose stay the
same while group A uploads and deletes a file full of B's query words (BM25 statistics per group)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Deployment
from tests.api.server import upload

QUERIES = ("power supply 电源模块", "replace the power supply module", "温湿度 power")


def _results(client: httpx.Client) -> list[list[dict]]:
    out = []
    for text in QUERIES:
        resp = client.post("/v1/search", json={"text": text, "rerank": False, "per_doc_limit": 0})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out.append(
            [
                {k: hit[k] for k in ("id", "rank", "score", "retrieval_score", "dense_score", "bm25_score")}
                for hit in body["results"]
            ]
            + [{"total_candidates": body["total_candidates"]}]
        )
    return out


def test_a_hidden_upload_and_delete_change_nothing_another_group_sees(
    deployment: Deployment, alpha: httpx.Client, beta: httpx.Client, tmp_path: Path
) -> None:
    before = _results(beta)
    assert any(hit.get("bm25_score") for hit in before[0])  # B's own rows match lexically

    hidden = tmp_path / "alpha-secret-psu-notes.md"
    hidden.write_text(
        "# Power supply notes\n\n" + "power supply 电源模块 replace module " * 60 + "\n\n温湿度 power\n",
        encoding="utf-8",
    )
    job = upload(alpha, [hidden])
    assert job["status"] == "done", job
    doc_id = job["results"][0]["doc_id"]
    try:
        seen_by_alpha = alpha.post("/v1/search", json={"text": QUERIES[0], "rerank": False}).json()
        assert any(h["document"]["id"] == doc_id for h in seen_by_alpha["results"])
        assert _results(beta) == before
    finally:
        assert alpha.delete(f"/v1/documents/{doc_id}").status_code == 200
    assert _results(beta) == before


@pytest.mark.parametrize("query", QUERIES[:1])
def test_the_hidden_file_is_never_a_result_for_the_other_group(beta: httpx.Client, query: str) -> None:
    resp = beta.post("/v1/search", json={"text": query, "rerank": False})
    assert all(h["document"]["name"] != "alpha-secret-psu-notes.md" for h in resp.json()["results"])
