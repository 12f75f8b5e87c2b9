"""One keyed API server for the whole session: real uvicorn, real Milvus Lite, real ingest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.corpus import Corpus, write_corpus
from tests.api.server import LiveServer, upload
from vlsearch.api.auth import hash_key
from vlsearch.config import get_settings

KEY_A = "test-key-alpha-5c1f"
KEY_B = "test-key-beta-93ad"
KEY_AB = "test-key-both-77e2"
KEY_ADMIN = "test-key-admin-0b5d"  # role admin, no groups: loads and unloads the models


@dataclass(frozen=True)
class Deployment:
    server: LiveServer
    corpus: Corpus
    pdf_id: str
    photo_id: str
    md_id: str


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_reranker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl

    return build_tiny_qwen3vl(tmp_path_factory.mktemp("tiny-reranker"))


@pytest.fixture(scope="session")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, corpus: Corpus, tiny_reranker: Path
) -> Iterator[Deployment]:
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("api-data"),
        profile="cpu",
        rerank_on_cpu=True,
        reranker=str(tiny_reranker),
        allowed_roots=[corpus.alpha_pdf.parent],
        max_query_video_seconds=5.0,
        media_url_hosts=["127.0.0.1"],  # the test's own media host (tests/api/test_media_urls.py)
        api_keys={
            hash_key(KEY_A): ["alpha"],
            hash_key(KEY_B): ["beta"],
            hash_key(KEY_AB): ["alpha", "beta"],
            hash_key(KEY_ADMIN): {"roles": ["admin"]},
        },
    )
    server = LiveServer.start(settings)
    try:
        with server.client(KEY_A) as alpha, server.client(KEY_B) as beta:
            job_a = upload(alpha, [corpus.alpha_pdf, corpus.alpha_photo])
            job_b = upload(beta, [corpus.beta_md])
        assert job_a["status"] == "done" and job_b["status"] == "done", (job_a, job_b)
        ids = {r["name"]: r["doc_id"] for r in job_a["results"] + job_b["results"]}
        yield Deployment(
            server=server,
            corpus=corpus,
            pdf_id=ids[corpus.alpha_pdf.name],
            photo_id=ids[corpus.alpha_photo.name],
            md_id=ids[corpus.beta_md.name],
        )
    finally:
        server.stop()


@pytest.fixture()
def alpha(deployment: Deployment) -> Iterator:
    with deployment.server.client(KEY_A) as client:
        yield client


@pytest.fixture()
def beta(deployment: Deployment) -> Iterator:
    with deployment.server.client(KEY_B) as client:
        yield client


@pytest.fixture()
def both(deployment: Deployment) -> Iterator:
    with deployment.server.client(KEY_AB) as client:
        yield client


@pytest.fixture()
def admin(deployment: Deployment) -> Iterator:
    with deployment.server.client(KEY_ADMIN) as client:
        yield client
