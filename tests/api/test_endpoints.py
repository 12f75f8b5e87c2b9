"""Search, documents, jobs, media, models, rerank, health and metrics over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Deployment
from tests.api.server import upload, wait_for_job, wait_for_model


def test_health_without_key_says_only_alive_and_with_key_shows_the_deployment(
    deployment, alpha, admin
) -> None:
    with deployment.server.client() as anonymous:
        bare = anonymous.get("/v1/health").json()
    assert bare["status"] == "ok" and bare["profile"] is None and bare["models"] is None
    full = alpha.get("/v1/health").json()
    assert full["profile"] == "cpu"
    assert full["milvus_uri"].endswith("milvus.db")
    assert full["auth"] == "api-keys"
    assert {m["name"] for m in full["models"]} == {"embedder", "reranker"}
    assert full["counts"]["documents.ready"] >= 2  # alpha's own documents; rows are an admin's figure
    assert admin.get("/v1/health").json()["counts"]["rows.chunks"] > 0
    ready = alpha.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_text_search_returns_documents_with_page_labels_and_scores(alpha) -> None:
    resp = alpha.post(
        "/v1/search", json={"text": "how do I replace the power supply module?", "rerank": False}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    top = body["results"][0]
    assert top["document"]["name"] == "psu_manual.pdf"
    assert top["locator"]["page"] == 2 and top["locator_label"].startswith("p. 2")
    assert "power supply" in top["snippet"].lower()
    assert isinstance(top["retrieval_score"], float) and top["rerank_score"] is None
    assert body["reranked"] is False and "retrieve" in body["timings_ms"]
    original = alpha.get(top["original_url"].split("#")[0])
    assert original.status_code == 200 and original.content.startswith(b"%PDF")
    page = alpha.get(top["media_url"])  # the hit's page, rendered at ingest (its boxes are on it)
    assert page.status_code == 200 and page.content.startswith(b"\xff\xd8\xff")


def test_chinese_query_finds_the_chinese_document(beta) -> None:
    body = beta.post("/v1/search", json={"text": "电源模块", "rerank": False}).json()
    assert body["results"][0]["document"]["name"] == "电源模块更换指南.md"
    assert "电源模块" in body["results"][0]["snippet"]


def test_image_upload_search_returns_the_photo_with_a_thumbnail(deployment: Deployment, alpha) -> None:
    photo = deployment.corpus.query_photo
    resp = alpha.post(
        "/v1/search/upload",
        files={"image": (photo.name, photo.read_bytes(), "image/jpeg")},
        data={"rerank": "false", "per_doc_limit": "0"},
    )
    assert resp.status_code == 200, resp.text
    hits = resp.json()["results"]
    with_thumbs = [h for h in hits if h["thumbnail_url"]]
    assert with_thumbs and with_thumbs[0]["document"]["id"] == deployment.photo_id
    thumb = alpha.get(with_thumbs[0]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")


def test_query_video_over_the_duration_limit_is_refused_by_the_server(deployment: Deployment, alpha) -> None:
    video = deployment.corpus.long_video
    resp = alpha.post("/v1/search/upload", files={"video": (video.name, video.read_bytes(), "video/mp4")})
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["code"] == "too_large"
    assert "max_query_video_seconds" in resp.json()["error"]["message"]


def test_corrupt_query_image_is_a_clear_4xx(alpha) -> None:
    resp = alpha.post(
        "/v1/search/upload", files={"image": ("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")}
    )
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "extraction_failed", resp.text


def test_validation_errors_name_the_field_to_change(alpha) -> None:
    resp = alpha.post("/v1/search", json={"text": "x", "topk": 5})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "invalid_request" and "topk" in error["message"]
    resp = alpha.post("/v1/search", json={"text": "x", "top_k": 0})
    assert "top_k" in resp.json()["error"]["message"]
    resp = alpha.post("/v1/search/upload", data={"text": ""})
    assert resp.status_code == 422 and "text, an image or a video" in resp.json()["error"]["message"]


def test_oversize_bodies_are_413_naming_the_limit(deployment: Deployment, alpha) -> None:
    resp = alpha.post(
        "/v1/search",
        content=b'{"text": "' + b"a" * (3 << 20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    error = resp.json()["error"]
    assert (
        error["code"] == "body_too_large" and "json_body" in error["message"] and "2 MiB" in error["message"]
    )

    def chunked():  # no Content-Length: the limit must hold while the body streams
        for _ in range(3):
            yield b"a" * (1 << 20)

    resp = alpha.post("/v1/search", content=chunked(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and "json_body" in resp.json()["error"]["message"]


def test_unknown_routes_and_items_use_the_envelope(alpha) -> None:
    resp = alpha.get("/v1/nope")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = alpha.get("/v1/media/does-not-exist?kind=thumbnail")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = alpha.get("/v1/media/x?kind=secret")
    assert resp.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/media/..%2F..%2F..%2Fetc%2Fpasswd?kind=thumbnail",
        "/v1/media/%2Fetc%2Fpasswd?kind=original",
        "/v1/documents/..%2F..%2Fcatalog.db/original",
        "/v1/media/x%22%20or%20id%20!%3D%20%22?kind=thumbnail",  # filter injection attempt
    ],
)
def test_media_paths_and_ids_cannot_escape(alpha, path: str) -> None:
    resp = alpha.get(path)
    assert resp.status_code in (400, 404), resp.text
    assert set(resp.json()) == {"error"}
    assert b"root:" not in resp.content and b"SQLite" not in resp.content


def test_upload_job_reports_progress_and_failures_with_reasons(deployment: Deployment, both) -> None:
    job = upload(both, [deployment.corpus.corrupt_pdf], groups="alpha")
    assert job["status"] == "failed" and job["total"] == 1 and job["done"] == 1 and job["progress"] == 1.0
    result = job["results"][0]
    assert result["status"] == "failed" and result["error"]
    failed = both.get("/v1/documents", params={"status": "failed"}).json()["documents"]
    assert any(d["name"] == "broken.pdf" and d["error"] for d in failed)


def test_documents_list_filters_pages_and_delete_removes_from_search(both) -> None:
    text = b"zebra crossing maintenance checklist quokka"
    resp = both.post("/v1/documents", files=[("files", ("quokka.txt", text))], data={"groups": "beta"})
    job = wait_for_job(both, resp.json()["job_id"])
    assert job["status"] == "done", job
    doc_id = job["results"][0]["doc_id"]
    page = both.get("/v1/documents", params={"q": "quokka", "limit": 1}).json()
    assert page["total"] == 1 and page["documents"][0]["id"] == doc_id
    assert page["documents"][0]["groups"] == ["beta"]
    assert both.get("/v1/documents", params={"limit": 1}).json()["limit"] == 1
    hits = both.post("/v1/search", json={"text": "quokka checklist", "rerank": False}).json()["results"]
    assert hits[0]["document"]["id"] == doc_id
    assert both.delete(f"/v1/documents/{doc_id}").json() == {"id": doc_id, "deleted": True}
    assert both.get(f"/v1/documents/{doc_id}").status_code == 404
    hits = both.post("/v1/search", json={"text": "quokka checklist", "rerank": False}).json()["results"]
    assert doc_id not in {h["document"]["id"] for h in hits}


def test_models_load_unload_and_rerank(deployment: Deployment, alpha, admin) -> None:
    models = {m["name"]: m for m in alpha.get("/v1/models").json()["models"]}
    assert set(models) == {"embedder", "reranker"}
    resp = admin.post("/v1/models/nope/load")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"

    admin.post("/v1/models/reranker/unload")
    resp = alpha.post("/v1/rerank", json={"query": "power supply", "documents": ["a", "b"]})
    assert resp.status_code == 503 and "/v1/models/reranker/load" in resp.json()["error"]["message"]

    resp = admin.post("/v1/models/reranker/load")
    assert resp.status_code in (200, 202) and resp.json()["state"] in ("loading", "ready")
    assert wait_for_model(alpha, "reranker")["state"] == "ready"

    docs = ["replace the power supply module", {"text": "rack layout"}, {"item_id": None, "text": "E-17"}]
    resp = alpha.post("/v1/rerank", json={"query": "power supply", "documents": docs, "top_n": 2})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert len(results) == 2 and results[0]["relevance_score"] >= results[1]["relevance_score"]
    assert all(0.0 <= r["relevance_score"] <= 1.0 for r in results)
    assert results[0]["document"]["text"] in ("replace the power supply module", "rack layout", "E-17")

    photo = deployment.corpus.query_photo
    payload = '{"query": {"text": "rack", "image": "upload:q.jpg"}, "documents": [{"doc_id": "%s"}, "x"]}'
    resp = alpha.post(
        "/v1/rerank/upload",
        data={"payload": payload % deployment.photo_id},
        files=[("files", ("q.jpg", photo.read_bytes(), "image/jpeg"))],
    )
    assert resp.status_code == 200, resp.text
    assert sorted(r["index"] for r in resp.json()["results"]) == [0, 1]

    seed = {
        "instruction": "请作为企业IT知识库专家,找出最匹配的操作指南。",
        "query": {"text": "如何更换电源模块"},
        "documents": [{"text": "电源模块更换步骤"}, {"text": "机房温湿度标准"}],
        "fps": 1.0,
        "max_frames": 8,
    }
    resp = alpha.post("/v1/rerank/process", json=seed)
    assert resp.status_code == 200, resp.text
    scores = resp.json()["scores"]
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)

    # with the reranker ready, search reranks
    body = alpha.post("/v1/search", json={"text": "power supply", "rerank": True}).json()
    assert body["reranked"] is True and body["results"][0]["rerank_score"] is not None
    assert admin.post("/v1/models/reranker/unload").json()["state"] == "unloaded"


def test_metrics_expose_route_latency_stages_ingest_and_model_state(
    deployment: Deployment, alpha, admin
) -> None:
    alpha.post("/v1/search", json={"text": "power supply", "rerank": False})
    assert httpx.get(deployment.server.url + "/metrics").status_code == 401  # keys configured: key needed
    assert alpha.get("/metrics").status_code == 403  # a group's key: not the deployment's activity
    text = admin.get("/metrics").text
    assert 'vlsearch_http_request_seconds_count{method="POST",route="/v1/search",status="200"}' in text
    assert 'vlsearch_search_stage_seconds_count{stage="retrieve"}' in text
    assert 'vlsearch_ingest_files_total{status="ingested"}' in text
    assert 'vlsearch_model_state{model="embedder",state="ready"} 1.0' in text


def test_ui_pages_and_openapi_are_served(deployment: Deployment) -> None:
    with deployment.server.client() as anonymous:
        index = anonymous.get("/")
        assert index.status_code == 200 and "text/html" in index.headers["content-type"]
        assert '<meta charset="utf-8">' in index.text and "/ui/search.js" in index.text
        assert "cdn" not in index.text.lower() and "https://" not in index.text
        assert anonymous.get("/documents").status_code == 200
        assert anonymous.get("/docs").status_code == 200
        spec = anonymous.get("/openapi.json").json()
        assert "/v1/search" in spec["paths"] and "/v1/rerank" in spec["paths"]
        assert anonymous.get("/ui/common.js").status_code == 200
        limits = anonymous.get("/v1/limits").json()
        assert limits["max_query_video_seconds"] == 5.0 and limits["auth"] is True
