"""`vlsearch enqueue` queues files (folders expanded) for the workers without touching Milvus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlsearch.catalog import Catalog, JobStatus
from vlsearch.cli import app
from vlsearch.queue import TaskKind, TaskQueue


def test_enqueue_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.md").write_text("# A\n\nalpha", encoding="utf-8")
    (docs / "sub" / "b.txt").write_text("beta", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    monkeypatch.setenv("VLSEARCH_CATALOG_URL", url)
    monkeypatch.setenv("VLSEARCH_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["enqueue", str(docs), "--groups", "ops,eng"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["total"] == 2

    catalog = Catalog(url=url)
    catalog.open()
    try:
        job = catalog.get_job(out["job_id"])
        assert job is not None and job.status is JobStatus.QUEUED and job.groups == ("ops", "eng")
        tasks = TaskQueue(catalog=catalog).tasks(job.id)
        assert sorted(t.path.name for t in tasks) == ["a.md", "b.txt"]
        assert all(
            t.kind is TaskKind.FILE and t.status is JobStatus.QUEUED and t.path.is_absolute() for t in tasks
        )
    finally:
        catalog.close()
