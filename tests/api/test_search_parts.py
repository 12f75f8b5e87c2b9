"""POST /v1/search/upload with text, several photos and a video in one query: every part is used,
and more photos than the limit are refused with the limit named."""

from __future__ import annotations

import io

from PIL import Image

from tests.api.conftest import Deployment
from vlsearch.demo.writers import text_png


def _scores(resp) -> dict[str, float]:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    return {h["id"]: h["retrieval_score"] for h in resp.json()["results"]}


def _label_photo(lines: list[str]) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(text_png(lines))).convert("RGB").save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def test_text_photos_and_video_in_one_query_each_count(
    deployment: Deployment, alpha, admin, tmp_path
) -> None:
    from vlsearch.demo.media import racking_video

    rack = deployment.corpus.query_photo.read_bytes()  # a "Node-07" rack: finds the rack photo
    label = _label_photo(["Replacing the power supply module", "release latch PSU"])  # finds the manual
    video = racking_video(tmp_path / "clip.mp4", seconds_per_step=1.0, fps=2, size=(320, 180))  # 4 s
    data = {"rerank": "false", "per_doc_limit": "0", "top_k": "20"}

    def search(*photos: tuple[str, bytes]) -> dict[str, float]:
        files = [("image", (name, content, "image/jpeg")) for name, content in photos]
        return _scores(alpha.post("/v1/search/upload", files=files, data=data))

    rack_only, label_only = search(("rack.jpg", rack)), search(("label.jpg", label))
    both = search(("rack.jpg", rack), ("label.jpg", label))
    rack_row, label_row = next(iter(rack_only)), next(iter(label_only))
    assert rack_row != label_row  # each photo alone leads to another row
    # the second photo is read and searched with, not dropped: each photo's best row scores higher
    # with both photos than with the other photo alone
    assert both[label_row] > rack_only.get(label_row, 0.0)
    assert both[rack_row] > label_only.get(rack_row, 0.0)
    everything = alpha.post(
        "/v1/search/upload",
        files=[
            ("image", ("rack.jpg", rack, "image/jpeg")),
            ("image", ("label.jpg", label, "image/jpeg")),
            ("video", (video.name, video.read_bytes(), "video/mp4")),
        ],
        data={**data, "text": "power supply"},
    )
    body = everything.json()
    assert everything.status_code == 200 and "query_media" in body["timings_ms"], everything.text
    assert {rack_row, label_row} <= {h["id"] for h in body["results"]}
    metrics = admin.get("/metrics").text  # the deployment's activity: an admin's to read
    assert 'vlsearch_searches_total{kind="text+image+video",reranked="false"}' in metrics


def test_more_photos_than_the_limit_are_refused(deployment: Deployment, alpha) -> None:
    limit = alpha.get("/v1/limits").json()["max_query_images"]
    rack = deployment.corpus.query_photo.read_bytes()
    files = [("image", (f"p{i}.jpg", rack, "image/jpeg")) for i in range(limit + 1)]
    resp = alpha.post("/v1/search/upload", files=files, data={"rerank": "false"})
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert f"at most {limit}" in error["message"] and error["detail"]["limit"] == "max_query_images"
