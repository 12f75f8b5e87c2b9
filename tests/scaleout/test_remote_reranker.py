"""The rerank stage pointed at another vlsearch's /v1/rerank, and its degraded mode."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.scaleout.conftest import Cluster, front_settings
from vlsearch.demo.writers import panel_png
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState, RerankInput
from vlsearch.rerank.remote import ItemRef, RemoteReranker, RemoteRerankerError
from vlsearch.runtime import Runtime
from vlsearch.testing.milvus_server import free_port
from vlsearch.types import Modality, Query

QUERY = "fan module replacement"


def _direct(cluster: Cluster, body: dict) -> dict[int, float]:
    resp = httpx.post(cluster.remote.rerank_url, json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return {r["index"]: r["relevance_score"] for r in resp.json()["results"]}


def test_scores_come_from_the_remote_in_input_order(cluster: Cluster) -> None:
    reranker = RemoteReranker(url=cluster.remote.rerank_url)
    docs = ["Fan module F-1 replacement.", "The cafeteria opens at 8am.", "Airflow checks for the tray."]
    scores = reranker.score(
        RerankInput(text=QUERY), [RerankInput(text=d) for d in docs], instruction="Find it."
    )
    expected = _direct(cluster, {"query": QUERY, "documents": docs, "instruction": "Find it."})
    assert scores == pytest.approx([expected[i] for i in range(len(docs))])
    info = reranker.info()
    assert info.state is ModelState.READY and info.backend == "remote-vlsearch"
    assert info.model_id.endswith("tiny-reranker")  # the remote's model, learned from its answer


def test_a_query_photo_is_uploaded_to_the_remote(cluster: Cluster, tmp_path: Path) -> None:
    photo = tmp_path / "rack.png"
    photo.write_bytes(panel_png("RACK 7", (("PSU", "#e0201b"),)))
    reranker = RemoteReranker(url=cluster.remote.rerank_url)
    docs = [RerankInput(text="Power supply alarm on rack 7"), RerankInput(text="Fan tray lights")]
    with_photo = reranker.score(RerankInput(text=QUERY, image=str(photo)), docs)
    text_only = reranker.score(RerankInput(text=QUERY), docs)
    assert len(with_photo) == 2 and all(0.0 <= s <= 1.0 for s in with_photo)
    assert with_photo != pytest.approx(text_only)  # the image reached the model


def test_search_reranks_on_the_remote_with_item_references(front: Runtime, cluster: Cluster) -> None:
    result = front.search.search(Query(text=QUERY, top_k=8, per_doc_limit=0))
    assert result.reranked and not result.degraded, result.degraded
    scores = [hit.rerank_score for hit in result.hits]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    images = [h for h in result.hits if h.candidate.item.modality is Modality.IMAGE]
    assert images, "the figure row should be among the candidates"
    # The image row went over the wire as an item_id; the remote resolved it to the same score.
    item = images[0].candidate.item
    direct = _direct(cluster, {"query": QUERY, "documents": [{"item_id": item.id}], "instruction": None})
    assert images[0].rerank_score == pytest.approx(direct[0])


def test_unknown_item_is_refused_without_opening_the_circuit(cluster: Cluster) -> None:
    reranker = RemoteReranker(url=cluster.remote.rerank_url, retries=0)
    with pytest.raises(RemoteRerankerError, match="refused the request"):
        reranker.score(RerankInput(text=QUERY), [RerankInput(image=ItemRef("no-such-item"))])
    assert reranker.info().state is ModelState.READY


def test_search_degrades_to_retrieval_order_when_the_remote_is_down(cluster: Cluster, front: Runtime) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1/rerank"
    rt = Runtime.from_settings(
        front_settings(cluster, reranker_url=dead, reranker_retries=1, reranker_timeout_s=2.0)
    )
    rt.start()
    try:
        plain = rt.search.search(Query(text=QUERY, top_k=5, rerank=False))
        started = time.perf_counter()
        first = rt.search.search(Query(text=QUERY, top_k=5))
        assert not first.reranked
        assert "retrieval order" in first.degraded and dead in first.degraded
        assert [h.candidate.item.id for h in first.hits] == [h.candidate.item.id for h in plain.hits]
        assert all(h.rerank_score is None for h in first.hits)
        # The circuit is open now: the next search does not wait out the retries again.
        again = rt.search.search(Query(text=QUERY, top_k=5))
        assert "retrieval order" in again.degraded and not again.reranked
        assert "rerank" not in again.timings_ms
        assert time.perf_counter() - started < 30
        assert rt.models.info("reranker").state is ModelState.FAILED
        with pytest.raises(ModelUnavailableError, match="did not answer"):
            rt.models.load("reranker")
    finally:
        rt.close()


def test_retries_ride_out_a_remote_that_comes_up(cluster: Cluster) -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503, json={"error": {"code": "model_unavailable", "message": "warming up"}})
        forwarded = httpx.post(
            cluster.remote.rerank_url,
            content=request.content,
            timeout=60,
            headers={"content-type": "application/json"},
        )
        return httpx.Response(
            forwarded.status_code, content=forwarded.content, headers={"content-type": "application/json"}
        )

    reranker = RemoteReranker(
        url=cluster.remote.rerank_url, retries=2, backoff_s=0.05, transport=httpx.MockTransport(flaky)
    )
    scores = reranker.score(RerankInput(text=QUERY), [RerankInput(text="Fan module F-2 replacement.")])
    assert len(calls) == 3 and len(scores) == 1
    assert reranker.info().state is ModelState.READY


def test_the_api_flags_a_degraded_search(cluster: Cluster, front: Runtime) -> None:
    from tests.api.server import LiveServer

    dead = f"http://127.0.0.1:{free_port()}/v1/rerank"
    api = LiveServer.start(
        front_settings(cluster, reranker_url=dead, reranker_retries=0, reranker_timeout_s=2.0)
    )
    try:
        with api.client() as client:
            resp = client.post("/v1/search", json={"text": QUERY, "top_k": 3})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["reranked"] is False
            assert "retrieval order" in body["degraded"] and dead in body["degraded"]
            assert body["results"] and all(r["rerank_score"] is None for r in body["results"])
            model = client.get("/v1/models/reranker").json()
            assert model["state"] == "failed" and model["backend"] == "remote-vlsearch"
    finally:
        api.stop()


def test_cohere_kind_sends_plain_strings(cluster: Cluster, tmp_path: Path) -> None:
    # vlsearch's /v1/rerank takes the Cohere shape and any model name, so it stands in for Cohere here.
    reranker = RemoteReranker(url=cluster.remote.rerank_url, kind="cohere", model="rerank-v3.5")
    photo = tmp_path / "panel.png"
    photo.write_bytes(panel_png("FAN", (("FAN", "#e0201b"),)))
    docs = [RerankInput(text="Fan tray lights", image=str(photo)), RerankInput(text="Cafeteria hours")]
    scores = reranker.score(RerankInput(text=QUERY), docs)
    # Media are dropped: the scores are those of the texts alone.
    expected = _direct(cluster, {"query": QUERY, "documents": ["Fan tray lights", "Cafeteria hours"]})
    assert scores == pytest.approx([expected[0], expected[1]])
    assert reranker.info().backend == "remote-cohere"
