"""Background work the API starts but does not wait for: upload ingest jobs and model loads."""

from __future__ import annotations

import functools
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.api.metrics import Metrics
from vlsearch.catalog import DocumentRecord, FileResult, FileStatus, JobRecord, JobStatus
from vlsearch.media.stored import sweep_unreferenced
from vlsearch.models.base import ModelInfo, ModelState
from vlsearch.types import EmbedInput, Role

if TYPE_CHECKING:
    from vlsearch.runtime import Runtime

log = logging.getLogger("vlsearch.api.workers")

# English with function words, so an ensemble starts both of its one-core lanes
_WARM_QUERY = EmbedInput(text="how do I find the right page in the manual")


class IngestJobs:
    """Runs upload jobs one at a time on a worker thread (Milvus Lite and the embedder are per-process)."""

    def __init__(self, *, runtime: Runtime, metrics: Metrics) -> None:
        self._runtime = runtime
        self._metrics = metrics
        self._executor: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlsearch-ingest")
            self._settle_interrupted()

    def _settle_interrupted(self) -> None:
        """What a killed server left unfinished: fail its jobs, index its half-written documents
        again as a job of their own (see vlsearch.ops.recovery)."""
        from vlsearch.ops.recovery import settle_at_start

        rt = self._runtime

        def current_sha(doc_id: str) -> str | None:
            record = rt.catalog.get_document(doc_id)
            return record.document.sha256 if record is not None else None

        # this process owns the data dir (uploads are ingested here): what a kill left is garbage
        sweep_unreferenced(rt.settings.data_dir, current_sha)
        if not rt.store.ping():
            log.warning("Milvus is unreachable: half-indexed documents are left for the next start")
            return
        found = settle_at_start(catalog=rt.catalog, store=rt.store)
        if not found.documents or self._executor is None:
            return
        groups = tuple(sorted({g for r in found.documents for g in r.document.groups}))
        job = rt.catalog.create_job(total=len(found.documents), groups=groups)
        future = self._executor.submit(self._reindex, job.id, list(found.documents))
        with self._lock:
            self._futures[job.id] = future
        future.add_done_callback(functools.partial(self._forget, job.id))

    def _reindex(self, job_id: str, records: list[DocumentRecord]) -> None:
        from vlsearch.ops.recovery import recover_document

        rt = self._runtime
        failed = 0
        try:
            for record in records:
                result = recover_document(
                    record,
                    pipeline=rt.pipeline,
                    store=rt.store,
                    catalog=rt.catalog,
                    media_dir=rt.settings.media_dir,
                )
                rt.catalog.add_job_result(job_id, result)
                failed += result.status is FileStatus.FAILED
            error = (
                f"{failed} of {len(records)} interrupted documents could not be indexed again"
                if failed
                else ""
            )
            rt.catalog.finish_job(job_id, status=JobStatus.DONE, error=error)
        except Exception as exc:
            log.exception("re-indexing interrupted documents (job %s) failed", job_id)
            rt.catalog.finish_job(job_id, status=JobStatus.FAILED, error=f"internal error: {exc}")

    def submit(
        self, files: Sequence[tuple[str, Path]], *, groups: tuple[str, ...], folder: Path
    ) -> JobRecord:
        """Queue the files (already spooled to `folder`, which the job deletes when done)."""
        if self._executor is None:
            raise RuntimeError("IngestJobs.start() was not called")
        job = self._runtime.catalog.create_job(total=len(files), groups=groups)
        future = self._executor.submit(self._run, job.id, list(files), groups, folder)
        with self._lock:
            self._futures[job.id] = future
        future.add_done_callback(functools.partial(self._forget, job.id))
        return job

    def pending(self) -> int:
        with self._lock:
            return len(self._futures)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        with self._lock:
            waiting = [job_id for job_id, f in self._futures.items() if not f.running() and not f.done()]
        executor.shutdown(wait=True, cancel_futures=True)
        for job_id in waiting:
            self._runtime.catalog.finish_job(
                job_id,
                status=JobStatus.FAILED,
                error="the server shut down before this job ran; upload again",
            )

    def _forget(self, job_id: str, _future: object = None) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def _run(self, job_id: str, files: list[tuple[str, Path]], groups: tuple[str, ...], folder: Path) -> None:
        catalog = self._runtime.catalog
        pipeline = self._runtime.pipeline
        failed = 0
        try:
            for name, path in files:
                try:
                    # moved into the document's folder, never read into memory whole
                    result = pipeline.ingest_upload_file(name, path, groups=groups, job_id=job_id, move=True)
                except Exception as exc:
                    # ingest_upload records its own results; an exception means it never got that far.
                    log.exception("ingest of upload %s in job %s failed", name, job_id)
                    result = FileResult(
                        name=name,
                        status=FileStatus.FAILED,
                        doc_id=None,
                        error=f"internal error: {exc}",
                        items=0,
                    )
                    catalog.add_job_result(job_id, result)
                finally:
                    path.unlink(missing_ok=True)
                self._metrics.ingest_files.labels(status=result.status).inc()
                failed += result.status is FileStatus.FAILED
            status = JobStatus.FAILED if files and failed == len(files) else JobStatus.DONE
            error = f"{failed} of {len(files)} files failed" if failed else ""
            catalog.finish_job(job_id, status=status, error=error)
            self._metrics.ingest_jobs.labels(status=status.value).inc()
        except Exception as exc:
            log.exception("ingest job %s failed", job_id)
            catalog.finish_job(job_id, status=JobStatus.FAILED, error=f"internal error: {exc}")
            self._metrics.ingest_jobs.labels(status="failed").inc()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class ModelLoader:
    """Starts model loads on a thread so POST /v1/models/{name}/load answers at once (the UI polls)."""

    def __init__(self, *, runtime: Runtime) -> None:
        self._runtime = runtime
        self._loading: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def list(self) -> list[ModelInfo]:
        return [self._overlay(info) for info in self._runtime.models.list()]

    def info(self, name: str) -> ModelInfo:
        return self._overlay(self._runtime.models.info(name))

    def start_load(self, name: str, *, then: Callable[[], object] | None = None) -> ModelInfo:
        """Load on a thread; `then` runs there after the load (the state reads "loading" until it ends)."""
        info = self._runtime.models.info(name)  # NotFoundError (404) for an unknown name
        if info.state == ModelState.READY and then is None:
            return info
        with self._lock:
            if name not in self._loading:
                self._loading.add(name)
                thread = threading.Thread(
                    target=self._load, args=(name, then), name=f"vlsearch-load-{name}", daemon=True
                )
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
                thread.start()
        return self.info(name)

    def unload(self, name: str) -> ModelInfo:
        return self._runtime.models.unload(name)

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self._threads):
            thread.join(timeout)

    def preload_embedder(self) -> ModelInfo:
        """The embedder loaded and one query embedded, in the background: a first search would
        otherwise wait for both (an ensemble's first English query: about 8 s on two cores)."""
        embedder = self._runtime.embedder
        search = self._runtime.search

        def warm() -> None:
            embedder.embed([_WARM_QUERY], role=Role.QUERY)
            search.warm_up()  # the highlighter's tokenizer dictionary

        return self.start_load("embedder", then=warm)

    def _load(self, name: str, then: Callable[[], object] | None = None) -> None:
        try:
            self._runtime.models.load(name)
            if then is not None:
                then()
        except Exception:
            # The model records its own FAILED state and error text; /v1/models shows it.
            log.exception("loading model %s failed", name)
        finally:
            with self._lock:
                self._loading.discard(name)

    def _overlay(self, info: ModelInfo) -> ModelInfo:
        with self._lock:
            loading = info.name in self._loading
        if loading and info.state in (ModelState.UNLOADED, ModelState.READY):
            return replace(info, state=ModelState.LOADING)
        return info
