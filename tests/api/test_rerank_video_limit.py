"""/v1/rerank* refuse a video over max_query_video_seconds with 413, naming the setting (as search
uploads do); the deployment here sets the limit to 5 s and the corpus video lasts 10 s."""

from __future__ import annotations

import json

from tests.api.conftest import Deployment
from tests.api.server import wait_for_model


def test_rerank_refuses_a_long_video_naming_the_setting(deployment: Deployment, alpha, admin) -> None:
    assert admin.post("/v1/models/reranker/load").status_code in (200, 202)
    assert wait_for_model(alpha, "reranker")["state"] == "ready"
    try:
        video = deployment.corpus.long_video.read_bytes()
        for endpoint, doc in (("/v1/rerank", "rack"), ("/v1/rerank", {"text": "rack"})):
            payload = {"query": {"text": "racking", "video": "upload:long.mp4"}, "documents": [doc]}
            resp = alpha.post(
                endpoint + "/upload",
                data={"payload": json.dumps(payload)},
                files=[("files", ("long.mp4", video, "video/mp4"))],
            )
            assert resp.status_code == 413, resp.text
            error = resp.json()["error"]
            assert error["code"] == "too_large" and "max_query_video_seconds" in error["message"]
            assert "10.0 s long" in error["message"]
    finally:
        admin.post("/v1/models/reranker/unload")


def test_a_long_video_is_refused_before_the_model_is_loaded(deployment: Deployment, alpha, admin) -> None:
    # An unloaded reranker would answer 503 "load the model"; the duration rule must come first.
    admin.post("/v1/models/reranker/unload")
    assert alpha.get("/v1/models/reranker").json()["state"] != "ready"
    video = deployment.corpus.long_video.read_bytes()
    payload = {"query": {"text": "racking", "video": "upload:long.mp4"}, "documents": ["rack"]}
    resp = alpha.post(
        "/v1/rerank/upload",
        data={"payload": json.dumps(payload)},
        files=[("files", ("long.mp4", video, "video/mp4"))],
    )
    assert resp.status_code == 413, resp.text
    assert "max_query_video_seconds" in resp.json()["error"]["message"]
