"""The drop-in rerank API with the clients people already use: the real `cohere` SDK (v1 Client and
ClientV2) and a Jina-style request, against the live server and its tiny Qwen3-VL reranker.

Every ranking is checked against /v1/rerank/process (the seed's scores) for the same inputs.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import KEY_A, KEY_ADMIN, Deployment
from tests.api.server import wait_for_model

QUERY = "how do I replace the power supply module"
DOCS = [
    "Replace the power supply module: pull the release latch and slide the PSU out.",
    "The data center keeps the cold aisle between 18 and 27 degrees.",
    "Rack layout: 42U racks with two PDUs and a top-of-rack switch.",
    "电源模块更换步骤：拉开释放卡扣，取出旧模块。",
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def ready(deployment: Deployment) -> Iterator[Deployment]:
    with deployment.server.client(KEY_ADMIN) as client:  # loading a shared model is an admin's
        client.post("/v1/models/reranker/load")
        assert wait_for_model(client, "reranker")["state"] == "ready"
    yield deployment


@pytest.fixture(scope="module")
def media_host(deployment: Deployment) -> Iterator[str]:
    handler = partial(_Quiet, directory=str(deployment.corpus.query_photo.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # 127.0.0.1 is on the test allow-list
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _process(client, query: dict, documents: list[dict], **extra) -> list[float]:
    resp = client.post("/v1/rerank/process", json={"query": query, "documents": documents, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()["scores"]


def _ranking(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def _data_uri(path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def test_cohere_v1_client_reranks_with_any_model_name(ready: Deployment, alpha) -> None:
    import cohere

    co = cohere.Client(api_key=KEY_A, base_url=ready.server.url)
    documents = [
        DOCS[0],
        {"title": "Cooling", "text": DOCS[1], "owner": "facilities"},
        {"title": "Racks", "text": DOCS[2]},
        DOCS[3],
    ]
    out = co.rerank(
        model="rerank-v3.5",
        query=QUERY,
        documents=documents,
        top_n=3,
        return_documents=True,
        rank_fields=["title", "text"],
        max_chunks_per_doc=1,
    )
    assert len(out.results) == 3 and out.id
    # the texts the reranker read: string documents as they are, objects as "field: value" lines
    read = [DOCS[0], f"title: Cooling\ntext: {DOCS[1]}", f"title: Racks\ntext: {DOCS[2]}", DOCS[3]]
    expected = _process(alpha, {"text": QUERY}, [{"text": t} for t in read])
    assert [r.index for r in out.results] == _ranking(expected)[:3]
    for r in out.results:
        assert r.relevance_score == pytest.approx(expected[r.index], abs=1e-6)
        sent = documents[r.index]
        assert r.document is not None and r.document.text == (sent if isinstance(sent, str) else sent["text"])
    assert out.meta is not None and out.meta.warnings and "rerank-v3.5" in out.meta.warnings[0]
    # without rank_fields a document is ranked on its text (Cohere's default); scores are the seed's
    plain = co.rerank(model="rerank-english-v3.0", query=QUERY, documents=DOCS, return_documents=False)
    assert [r.index for r in plain.results] == _ranking(
        _process(alpha, {"text": QUERY}, [{"text": d} for d in DOCS])
    )
    assert all(r.document is None for r in plain.results)


def test_cohere_v2_client_and_max_tokens_per_doc(ready: Deployment, alpha, tiny_reranker) -> None:
    import cohere
    from transformers import AutoTokenizer

    co = cohere.ClientV2(api_key=KEY_A, base_url=ready.server.url)
    out = co.rerank(model="rerank-v3.5", query=QUERY, documents=DOCS, top_n=2)
    expected = _process(alpha, {"text": QUERY}, [{"text": d} for d in DOCS])
    assert [r.index for r in out.results] == _ranking(expected)[:2]
    assert out.results[0].relevance_score == pytest.approx(max(expected), abs=1e-6)

    # max_tokens_per_doc cuts each document to its first N tokens of the served model's tokenizer
    tok = AutoTokenizer.from_pretrained(str(tiny_reranker))
    n = 6
    cut = []
    for d in DOCS:
        ids = tok(d, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        cut.append(d if len(ids) <= n else d[: ids[n - 1][1]])
    assert cut != DOCS
    short = co.rerank(model="whatever", query=QUERY, documents=DOCS, max_tokens_per_doc=n)
    expected_cut = _process(alpha, {"text": QUERY}, [{"text": d} for d in cut])
    assert [r.index for r in short.results] == _ranking(expected_cut)
    for r in short.results:
        assert r.relevance_score == pytest.approx(expected_cut[r.index], abs=1e-6)


def test_jina_style_request_with_image_url_and_data_uri(ready: Deployment, alpha, media_host: str) -> None:
    photo = ready.corpus.query_photo
    documents = [
        {"text": "Node-07 rack with a red warning light"},
        {"image": _data_uri(photo, "image/jpeg")},
        {"url": f"{media_host}/{photo.name}"},
        {"text": "office chair catalogue"},
    ]
    body = {"model": "jina-reranker-m0", "query": "rack warning light", "documents": documents, "top_n": 4}
    resp = alpha.post("/v1/rerank", json=body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    served = out["model"]
    assert (
        resp.headers["X-Vlsearch-Rerank-Model"] == served and "jina-reranker-m0" in out["meta"]["warnings"][0]
    )
    assert out["results"][1]["document"] == documents[out["results"][1]["index"]]  # echoed as sent
    same = [{"text": documents[0]["text"]}, {"image": documents[1]["image"]}, {"image": documents[2]["url"]}]
    expected = _process(alpha, {"text": "rack warning light"}, [*same, {"text": documents[3]["text"]}])
    assert [r["index"] for r in out["results"]] == _ranking(expected)
    assert out["results"][0]["relevance_score"] == pytest.approx(max(expected), abs=1e-6)
    # the two images are the same bytes, so they score alike
    assert expected[1] == pytest.approx(expected[2], abs=1e-6)


def test_the_served_model_name_gets_no_warning_and_bad_input_is_named(ready: Deployment, alpha) -> None:
    served = alpha.get("/v1/models/reranker").json()["model_id"]
    resp = alpha.post("/v1/rerank", json={"model": served, "query": "x", "documents": ["a", "b"]})
    assert resp.status_code == 200 and resp.json()["meta"]["warnings"] == []
    cases = [
        ({"query": "x", "documents": [{"title": "no text"}]}, 422, "documents[0]: nothing to rank"),
        ({"query": " ", "documents": ["a"]}, 422, "query: nothing to rank against"),
        ({"query": "x", "documents": [{"image": "data:image/png;base64,aGVsbG8="}]}, 422, "not an image"),
        ({"query": "x", "documents": [{"image": "data:image/png,plain"}]}, 422, "must be base64"),
    ]
    for body, status, words in cases:
        resp = alpha.post("/v1/rerank", json=body)
        assert resp.status_code == status and words in resp.json()["error"]["message"], resp.text
    huge = "data:image/png;base64," + "A" * (25 << 20)
    resp = alpha.post("/v1/rerank", json={"query": "x", "documents": [{"image": huge}]})
    assert resp.status_code == 413 and "rerank_json" in resp.json()["error"]["message"]
    resp = alpha.post(
        "/v2/rerank", json={"model": "m", "query": "x", "documents": ["a"], "relevant_spans": {}}
    )
    assert resp.status_code == 422 and "relevant_spans" in resp.json()["error"]["message"]
