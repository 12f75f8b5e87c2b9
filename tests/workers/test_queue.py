"""The task queue on both engines: claims, leases, heartbeats, completion, reclaim, give-up."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from vlsearch.catalog import Catalog, FileResult, JobStatus
from vlsearch.queue import TaskKind, TaskQueue, TaskSpec


def _specs(n: int) -> list[TaskSpec]:
    return [TaskSpec(TaskKind.FILE, f"f{i:03d}.md", Path(f"/srv/in/f{i:03d}.md")) for i in range(n)]


def _ok(name: str, items: int = 3) -> FileResult:
    return FileResult(name, "ingested", f"d-{name}", "", items)


def test_claim_heartbeat_complete(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog, lease_seconds=30)
    job = queue.enqueue(_specs(3), groups=("ops", "eng"))
    assert job.status is JobStatus.QUEUED and job.total == 3
    assert queue.pending() == 3 and queue.counts()["queued"] == 3

    first = queue.claim("w1")
    assert first is not None and first.name == "f000.md" and first.attempts == 1
    assert first.groups == ("ops", "eng") and first.kind is TaskKind.FILE
    assert first.path == Path("/srv/in/f000.md") and first.worker_id == "w1"
    assert first.lease_until is not None and first.lease_until.tzinfo is not None
    got = catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.RUNNING and got.done == 0

    second = queue.claim("w2")
    assert second is not None and second.name == "f001.md"
    before = first.lease_until
    time.sleep(0.01)
    assert queue.heartbeat(first, "w1") is True
    lease = {t.id: t.lease_until for t in queue.tasks(job.id)}[first.id]
    assert lease is not None and lease > before
    assert queue.heartbeat(first, "w2") is False  # not w2's task

    assert queue.complete(first, "w2", _ok(first.name)) is False  # only the holder completes
    assert queue.complete(first, "w1", _ok(first.name)) is True
    assert queue.complete(first, "w1", _ok(first.name)) is False  # and only once
    assert queue.complete(second, "w2", FileResult(second.name, "failed", None, "bad file", 0)) is True
    third = queue.claim("w1")
    assert third is not None and queue.claim("w3") is None
    assert queue.complete(third, "w1", FileResult(third.name, "unchanged", "d", "", 0))

    done = catalog.get_job(job.id)
    assert done is not None and done.status is JobStatus.DONE and done.done == 3
    assert done.error == "1 of 3 files failed"
    assert [r.name for r in done.results] == ["f000.md", "f001.md", "f002.md"]
    statuses = [t.status for t in queue.tasks(job.id)]
    assert statuses == [JobStatus.DONE, JobStatus.FAILED, JobStatus.DONE]
    assert queue.pending() == 0


def test_all_failed_job_is_failed_and_empty_job_is_done(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog)
    job = queue.enqueue(_specs(2), groups=())
    for _ in range(2):
        task = queue.claim("w")
        assert task is not None
        queue.complete(task, "w", FileResult(task.name, "failed", None, "unsupported type", 0))
    got = catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.FAILED and got.error == "2 of 2 files failed"
    empty = queue.enqueue([], groups=())
    got = catalog.get_job(empty.id)
    assert got is not None and got.status is JobStatus.DONE


def test_expired_lease_is_reclaimed_and_the_old_holder_loses_it(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog, lease_seconds=0.2, max_attempts=3)
    job = queue.enqueue(_specs(1), groups=())
    crashed = queue.claim("crashed")
    assert crashed is not None and queue.claim("other") is None  # leased: not claimable yet
    time.sleep(0.3)
    again = queue.claim("other")
    assert again is not None and again.id == crashed.id and again.attempts == 2
    assert queue.heartbeat(crashed, "crashed") is False
    assert queue.complete(crashed, "crashed", _ok(crashed.name)) is False
    assert queue.complete(again, "other", _ok(again.name)) is True
    got = catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.DONE and len(got.results) == 1


def test_gives_up_after_max_attempts_with_a_reason(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog, lease_seconds=0.1, max_attempts=2)
    job = queue.enqueue(_specs(1), groups=())
    for worker in ("w1", "w2"):
        assert queue.claim(worker) is not None
        time.sleep(0.15)
    assert queue.claim("w3") is None
    (task,) = queue.tasks(job.id)
    assert task.status is JobStatus.FAILED and "gave up after 2 attempts" in task.error
    got = catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.FAILED
    assert got.results[0].status == "failed" and "worker logs" in got.results[0].error
    assert queue.reap() == 0  # recorded once


def test_release_returns_the_task_until_attempts_run_out(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog, lease_seconds=30, max_attempts=2)
    queue.enqueue(_specs(1), groups=())
    task = queue.claim("w1")
    assert task is not None and queue.release(task, "w1", "Milvus down") is True
    retry = queue.claim("w2")
    assert retry is not None and retry.attempts == 2 and retry.error == "Milvus down"
    assert queue.release(retry, "w2", "still down") is False  # last attempt: the caller fails it


def test_concurrent_claimers_take_each_task_once(catalog: Catalog) -> None:
    queue = TaskQueue(catalog=catalog, lease_seconds=30)
    job = queue.enqueue(_specs(60), groups=())
    claimed: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        try:
            while (task := queue.claim(worker)) is not None:
                with lock:
                    claimed.append((worker, task.id))
                assert queue.complete(task, worker, _ok(task.name))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = Counter(task_id for _, task_id in claimed)
    assert len(ids) == 60 and set(ids.values()) == {1}
    assert len({w for w, _ in claimed}) > 1  # the work really was shared
    got = catalog.get_job(job.id)
    assert got is not None and got.status is JobStatus.DONE and got.done == 60
    assert sorted(r.name for r in got.results) == [f"f{i:03d}.md" for i in range(60)]
    assert all(t.attempts == 1 for t in queue.tasks(job.id))


def test_bad_arguments(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        TaskQueue(catalog=catalog, lease_seconds=0)
    with pytest.raises(ValueError, match="max_attempts"):
        TaskQueue(catalog=catalog, max_attempts=0)
