"""The models every user shares: only an admin key loads or unloads them, an unload waits for the
work using them, and work racing an unload gets a clean 503, never a 500. Deployment-wide
figures (/metrics, health's row counts) are an admin's (or a metrics scraper's) too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.api.server import LiveServer, upload, wait_for_model
from tests.hostile.conftest import KEY_A, KEY_ADMIN, KEY_B, KEY_METRICS
from tests.ops.corpus import markdown_doc
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.models.gate import GuardedEmbedder, ModelBusyError
from vlsearch.types import EmbedInput, Role


def test_only_admin_keys_change_the_shared_models(api: LiveServer) -> None:
    with api.client(KEY_A) as alpha, api.client(KEY_ADMIN) as admin:
        for action in ("load", "unload"):
            resp = alpha.post(f"/v1/models/embedder/{action}")
            assert resp.status_code == 403 and "admin" in resp.json()["error"]["message"], resp.text
        assert alpha.get("/v1/models").status_code == 200  # seeing the models is fine
        assert admin.post("/v1/models/embedder/load").status_code in (200, 202)
        assert wait_for_model(admin, "embedder")["state"] == "ready"
        assert admin.post("/v1/models/embedder/unload").json()["state"] == "unloaded"


def test_counts_are_the_callers_and_metrics_need_a_role(api: LiveServer, tmp_path: Path) -> None:
    with api.client(KEY_B) as beta:
        upload(beta, [markdown_doc(tmp_path / "beta-counts.md", 2, paras=1)])
        own = beta.get("/v1/documents").json()["total"]
        counts = beta.get("/v1/health").json()["counts"]
        assert sum(v for k, v in counts.items() if k.startswith("documents.")) == own
        assert not [k for k in counts if not k.startswith("documents.")]  # no rows or jobs of others
        assert beta.get("/metrics").status_code == 403
    with api.client(KEY_ADMIN) as admin, api.client(KEY_METRICS) as scraper:
        assert "rows.chunks" in admin.get("/v1/health").json()["counts"]
        assert admin.get("/metrics").status_code == 200
        assert scraper.get("/metrics").status_code == 200
        assert scraper.post("/v1/models/embedder/unload").status_code == 403


def test_unload_under_load_never_breaks_work(api: LiveServer, tmp_path: Path) -> None:
    """Searches and an ingest run while an admin unloads and reloads the embedder again and again:
    each answer is a result or a clean 503, the ingest completes, and every unload succeeds."""
    big = markdown_doc(tmp_path / "long-runbook.md", 5, paras=40)  # several embedding batches
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def search() -> None:
        with api.client(KEY_A) as alpha:
            while not stop.is_set():
                resp = alpha.post("/v1/search", json={"text": "restart the pump", "rerank": False})
                statuses[resp.status_code] += 1
                if resp.status_code == 503:
                    assert resp.json()["error"]["code"] == "model_unavailable"

    searchers = [threading.Thread(target=search) for _ in range(3)]
    for t in searchers:
        t.start()
    unloads: Counter[int] = Counter()
    try:
        with api.client(KEY_A) as alpha, api.client(KEY_ADMIN) as admin:
            resp = alpha.post("/v1/documents", files=[("files", (big.name, big.read_bytes()))])
            job_id = resp.json()["job_id"]
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                unloads[admin.post("/v1/models/embedder/unload").status_code] += 1
                time.sleep(0.05)
            job = alpha.get(f"/v1/jobs/{job_id}").json()
            while job["status"] not in ("done", "failed"):
                time.sleep(0.2)
                job = alpha.get(f"/v1/jobs/{job_id}").json()
    finally:
        stop.set()
        for t in searchers:
            t.join()
    assert job["results"][0]["status"] == "ingested", job
    assert set(statuses) <= {200, 503} and statuses[200], statuses
    assert unloads == {200: sum(unloads.values())}, unloads


class _SlowModel:
    """An embedder whose calls take a while and break if the weights go away under them."""

    dim, model_id, multimodal = 4, "slow", False

    def __init__(self) -> None:
        self.weights: np.ndarray | None = None
        self.entered = threading.Event()
        self.release = threading.Event()

    def info(self) -> ModelInfo:
        state = ModelState.READY if self.weights is not None else ModelState.UNLOADED
        return ModelInfo(name="slow", model_id="slow", kind="embedder", backend="test", state=state)

    def load(self) -> None:
        if self.weights is None:
            self.weights = np.ones((1, 4), dtype=np.float32)

    def unload(self) -> None:
        self.weights = None

    def embed(self, inputs: list[EmbedInput], *, role: Role) -> np.ndarray:
        self.load()
        self.entered.set()
        self.release.wait(5)
        return np.repeat(self.weights, len(inputs), axis=0)  # None here was the 500


def test_the_gate_drains_in_flight_calls_and_refuses_new_ones() -> None:
    model = _SlowModel()
    guarded = GuardedEmbedder(model)
    results: list[object] = []
    call = threading.Thread(target=lambda: results.append(guarded.embed([EmbedInput("q")], role=Role.QUERY)))
    call.start()
    assert model.entered.wait(5)
    unload = threading.Thread(target=guarded.unload)
    unload.start()
    time.sleep(0.1)
    assert unload.is_alive() and model.weights is not None  # waiting for the call in flight
    with pytest.raises(ModelUnavailableError, match="being unloaded"):
        guarded.embed([EmbedInput("racing")], role=Role.QUERY)
    model.release.set()
    call.join(5)
    unload.join(5)
    assert isinstance(results[0], np.ndarray) and results[0].shape == (1, 4)
    assert model.weights is None and guarded.gate.in_flight == 0
    assert guarded.embed([EmbedInput("after")], role=Role.QUERY).shape == (1, 4)  # loads again
    model.release.clear()
    model.entered.clear()
    stuck = threading.Thread(target=lambda: guarded.embed([EmbedInput("q")], role=Role.QUERY))
    stuck.start()
    assert model.entered.wait(5)
    with pytest.raises(ModelBusyError, match="still used by 1"):
        guarded.gate.drain_then(model.unload, timeout_s=0.2)
    assert model.weights is not None  # a refused unload leaves the model as it was
    model.release.set()
    stuck.join(5)
