"""A real API server (uvicorn, Milvus Lite on a tmp dir, auth off) with a little content to fuzz."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.corpus import Corpus, write_corpus
from tests.api.server import LiveServer, upload, wait_for_model
from vlsearch.config import get_settings


@pytest.fixture(scope="module")
def fuzz_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("fuzz-corpus"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, fuzz_corpus: Corpus) -> Iterator[LiveServer]:
    from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl

    # A tiny random Qwen3-VL reranker, so rerank requests reach the model instead of a 503.
    reranker = build_tiny_qwen3vl(tmp_path_factory.mktemp("fuzz-reranker"))
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        profile="cpu",
        rerank_on_cpu=True,
        reranker=str(reranker),
        allowed_roots=[fuzz_corpus.alpha_pdf.parent],
        max_query_video_seconds=5.0,
    )
    server = LiveServer.start(settings)
    try:
        # Real documents, so generated ids and searches can reach code paths past "not found".
        with server.client() as client:
            job = upload(client, [fuzz_corpus.alpha_pdf, fuzz_corpus.beta_md])
            assert job["status"] == "done", job
            assert client.post("/v1/models/reranker/load").status_code == 202
            assert wait_for_model(client, "reranker")["state"] == "ready"
        yield server
    finally:
        server.stop()
