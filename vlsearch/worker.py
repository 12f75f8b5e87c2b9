"""`vlsearch worker`: a process that claims ingest tasks from the catalog's queue and ingests them.

Run several, on one machine or many, against one catalog (PostgreSQL, or a SQLite file on a single
machine) and one Milvus server. Each task is one file: the worker holds its lease with heartbeats
while the pipeline extracts, embeds (in batches) and writes it to Milvus, then completes the task,
which records the file's result on its job. A worker that dies loses its lease; another worker
re-runs the file after the lease expires, and the pipeline's idempotent writes make that safe.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from vlsearch.catalog import Catalog, FileResult, FileStatus, JobRecord
from vlsearch.errors import VlsearchError
from vlsearch.milvus.uri import parse_milvus_uri
from vlsearch.queue import Task, TaskKind, TaskQueue, TaskSpec

if TYPE_CHECKING:
    from vlsearch.config import Settings
    from vlsearch.ingest.pipeline import IngestPipeline

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerStats:
    tasks: int
    failed: int
    lost: int  # tasks whose lease another worker took over before this one finished
    seconds: float


class Worker:
    def __init__(
        self,
        *,
        queue: TaskQueue,
        pipeline: IngestPipeline,
        worker_id: str | None = None,
        poll_seconds: float = 1.0,
        on_result: Callable[[Task, FileResult], None] | None = None,
    ) -> None:
        self._queue = queue
        self._pipeline = pipeline
        self.worker_id = worker_id or new_worker_id()
        self._poll = poll_seconds
        self._on_result = on_result
        self._stop = threading.Event()

    def stop(self) -> None:
        """Finish the current task, then return from `run`."""
        self._stop.set()

    def run(self, *, max_tasks: int | None = None, exit_when_idle: bool = False) -> WorkerStats:
        started = time.perf_counter()
        tasks = failed = lost = 0
        while not self._stop.is_set() and (max_tasks is None or tasks < max_tasks):
            task = self._queue.claim(self.worker_id)
            if task is None:
                if exit_when_idle and self._queue.pending() == 0:
                    break
                self._stop.wait(self._poll)
                continue
            outcome = self.process(task)
            tasks += 1
            failed += outcome is FileStatus.FAILED
            lost += outcome is Unfinished.LOST
            if outcome is Unfinished.RELEASED:
                self._stop.wait(self._poll)  # back off: the store or catalog may be down
        return WorkerStats(tasks=tasks, failed=failed, lost=lost, seconds=time.perf_counter() - started)

    def process(self, task: Task) -> FileStatus | Unfinished:
        """Run one claimed task: the file's status, or why the task has no result from this worker."""
        log.info(
            "task %d (%s, job %s, attempt %d): %s", task.id, task.kind, task.job_id, task.attempts, task.name
        )
        beat_stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(task, beat_stop), name=f"vlsearch-lease-{task.id}", daemon=True
        )
        beat.start()
        began = time.perf_counter()
        try:
            result = self._ingest(task)
        except Exception as exc:
            # the file's own failures come back as FileResult; this is infrastructure (Milvus, catalog)
            log.exception("task %d (%s) could not run", task.id, task.name)
            reason = f"internal error: {exc!r}"
            if self._queue.release(task, self.worker_id, reason):
                return Unfinished.RELEASED
            result = FileResult(task.name, FileStatus.FAILED, None, reason, 0)
        finally:
            beat_stop.set()
            beat.join()
        if not self._queue.complete(task, self.worker_id, result):
            log.warning(
                "task %d (%s): lease lost to another worker; its result is theirs", task.id, task.name
            )
            return Unfinished.LOST
        if task.kind is TaskKind.UPLOAD:
            task.path.unlink(missing_ok=True)  # the spooled upload; the pipeline kept its own copy
        log.info(
            "task %d: %s %s, %d items in %.2f s",
            task.id,
            result.status,
            task.name,
            result.items,
            time.perf_counter() - began,
        )
        if self._on_result is not None:
            self._on_result(task, result)
        return FileStatus(result.status)

    def _ingest(self, task: Task) -> FileResult:
        if task.kind is TaskKind.FILE:
            return self._pipeline.ingest_file(task.path, groups=task.groups)
        if not task.path.is_file():
            return FileResult(
                task.name,
                FileStatus.FAILED,
                None,
                "the uploaded file is gone from the spool folder; upload again",
                0,
            )
        # copied (streamed), not moved: a task retried after a lost lease reads the spool file again
        return self._pipeline.ingest_upload_file(task.name, task.path, groups=task.groups)

    def _heartbeat(self, task: Task, stop: threading.Event) -> None:
        interval = max(self._queue.lease_seconds / 3, 0.05)
        while not stop.wait(interval):
            try:
                if not self._queue.heartbeat(task, self.worker_id):
                    log.warning(
                        "task %d: lease lost (took longer than the lease without a heartbeat)", task.id
                    )
                    return
            except Exception:
                # a catalog hiccup: keep trying; the lease only runs out if it lasts a whole lease
                log.exception("task %d: heartbeat failed", task.id)


def install_signal_handlers(worker: Worker) -> None:
    """SIGTERM / SIGINT: finish the task in hand, then exit (SIGKILL loses it to the lease timeout)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current task", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


class Unfinished(StrEnum):
    """A claimed task that this worker did not complete."""

    LOST = "lost"  # the lease ran out and another worker took the task; its result is theirs
    RELEASED = "released"  # infrastructure failed (store, catalog): handed back for a later attempt


class WorkerConfigError(VlsearchError):
    """This deployment cannot run separate ingest workers; the message says what to change."""


def check_worker_settings(settings: Settings) -> None:
    try:
        target = parse_milvus_uri(settings.resolved_milvus_uri)
    except ValueError as exc:
        raise WorkerConfigError(f"VLSEARCH_MILVUS_URI: {exc}") from None
    if target.lite_file:
        raise WorkerConfigError(
            f"VLSEARCH_MILVUS_URI is {settings.resolved_milvus_uri!r}, a Milvus Lite file, which one "
            "process owns (the API server ingests itself there); point workers at a Milvus server "
            "(http://host:19530 or `milvus-lite server`)"
        )


def build_queue(settings: Settings, catalog: Catalog) -> TaskQueue:
    return TaskQueue(
        catalog=catalog,
        lease_seconds=settings.worker_lease_seconds,
        max_attempts=settings.worker_max_attempts,
    )


def run_worker(
    settings: Settings,
    *,
    worker_id: str | None = None,
    max_tasks: int | None = None,
    exit_when_idle: bool = False,
) -> WorkerStats:
    """The `vlsearch worker` process: connect, claim and ingest until stopped (SIGTERM/SIGINT)."""
    from vlsearch.runtime import Runtime

    check_worker_settings(settings)
    runtime = Runtime.from_settings(settings)
    runtime.start()
    try:
        worker = Worker(
            queue=build_queue(settings, runtime.catalog),
            pipeline=runtime.pipeline,
            worker_id=worker_id,
            poll_seconds=settings.worker_poll_seconds,
        )
        install_signal_handlers(worker)
        # load the model before the first claim, so no lease is held through a slow model load
        runtime.embedder.load()
        log.info(
            "worker %s ready: catalog %s, Milvus %s",
            worker.worker_id,
            runtime.catalog.dialect,
            settings.resolved_milvus_uri,
        )
        stats = worker.run(max_tasks=max_tasks, exit_when_idle=exit_when_idle)
        log.info(
            "worker %s: %d tasks (%d failed, %d lost) in %.1f s",
            worker.worker_id,
            stats.tasks,
            stats.failed,
            stats.lost,
            stats.seconds,
        )
        return stats
    finally:
        runtime.close()


def enqueue_paths(settings: Settings, paths: Sequence[Path], *, groups: Sequence[str]) -> JobRecord:
    """Queue files (folders expanded) for the workers; only the catalog is touched."""
    from vlsearch.ingest.paths import expand

    files = list(expand(Path(p) for p in paths))
    catalog = Catalog(url=settings.resolved_catalog_url)
    catalog.open()
    try:
        return build_queue(settings, catalog).enqueue_files(files, groups=groups)
    finally:
        catalog.close()


class QueuedIngestJobs:
    """The API's upload jobs handed to `vlsearch worker` processes instead of an in-process thread.

    Same surface as `vlsearch.api.workers.IngestJobs` (start / submit / pending / close). Uploads
    are moved into `<data_dir>/queue-spool/<job>/`, which survives API restarts (the API's scratch
    dir does not) and which the workers must see: run them on this machine or share the data dir.
    Only for a Milvus server URI; with a Milvus Lite file the API ingests itself (one process per
    file)."""

    def __init__(self, *, settings: Settings, catalog: Catalog) -> None:
        self._settings = settings
        self._catalog = catalog
        self._queue: TaskQueue | None = None

    def start(self) -> None:
        check_worker_settings(self._settings)
        if self._queue is None:
            self._queue = build_queue(self._settings, self._catalog)

    def submit(
        self, files: Sequence[tuple[str, Path]], *, groups: tuple[str, ...], folder: Path
    ) -> JobRecord:
        """Queue the files (spooled to `folder`, which is emptied and removed here)."""
        if self._queue is None:
            raise RuntimeError("QueuedIngestJobs.start() was not called")
        spool = self._settings.data_dir / "queue-spool" / uuid.uuid4().hex
        spool.mkdir(parents=True)
        specs = []
        for i, (name, path) in enumerate(files):
            target = spool / f"{i:04d}"
            shutil.move(path, target)
            specs.append(TaskSpec(TaskKind.UPLOAD, name, target.resolve()))
        shutil.rmtree(folder, ignore_errors=True)
        return self._queue.enqueue(specs, groups=groups)

    def pending(self) -> int:
        """Files queued or being ingested by workers (over all jobs)."""
        return 0 if self._queue is None else self._queue.pending()

    def close(self) -> None:
        # queued tasks stay queued: the workers carry on without the API
        self._queue = None
