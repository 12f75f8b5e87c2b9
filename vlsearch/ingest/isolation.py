"""Sniff + extract in a child process with a wall-clock limit and an address-space cap.

A pathological file (a parser loop, a decoder that allocates without bound, a native crash) must
cost one failed file, never a hung or killed server. The parent holds threads (gRPC, API workers,
onnxruntime), so a worker is never a plain fork() of it: it is a fresh interpreter started with
subprocess (fork+exec) running vlsearch.ingest.extract_worker, talking pickles over two pipes.
multiprocessing's spawn/forkserver would re-import the parent's __main__ script in every worker,
which runs unguarded scripts twice and fails for `python -` or notebooks. A worker serves many files
in turn (no per-file process start); one that times out or dies is killed and replaced.

OCR of the extracted images runs in the worker too (given the enricher's settings): its models and
their activations (rapidocr, OpenCV: ~300 MB) stay out of the server, which then holds only what
searching needs, and a file's OCR overlaps the embedding of the file before it with no lock
shared. The worker says how many images it is about to read, and each adds `ocr_s_per_image` to
the file's time limit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlsearch.errors import ExtractionError, VlsearchError
from vlsearch.ingest.limits import Limits
from vlsearch.media.ocr import OcrSpec
from vlsearch.types import Extraction

if TYPE_CHECKING:
    from vlsearch.config import Settings
    from vlsearch.ingest.visual import VisualEnricher

log = logging.getLogger(__name__)

_FILES_PER_WORKER = 200  # recycle workers now and then: native allocators fragment over time
_IDLE_WORKERS = 2  # kept warm; more are started on demand when ingests run in parallel
_START_TIMEOUT_S = 60.0  # a cold interpreter importing the extractors on a loaded 2-core host
OCR_S_PER_IMAGE = 30.0  # added to a file's time limit per image its worker is about to OCR


@dataclass(frozen=True)
class IsolationSettings:
    """timeout_s <= 0 runs extraction in-process (no isolation); memory_mb <= 0 sets no cap."""

    timeout_s: float = 120.0
    memory_mb: int = 4096

    @classmethod
    def from_settings(cls, settings: Settings) -> IsolationSettings:
        return cls(timeout_s=settings.extract_timeout_s, memory_mb=settings.extract_memory_mb)


@dataclass(frozen=True)
class Sniffed:
    doc_type: str
    extraction: Extraction


def sniff_and_extract(
    path: Path,
    *,
    limits: Limits,
    enricher: VisualEnricher | None = None,
    on_images: Callable[[int], None] | None = None,
) -> Sniffed:
    """In-process: what a worker runs for one file. With an enricher, the images are OCR'd
    (`on_images(n)` is told first)."""
    from vlsearch.ingest.extractors import extract
    from vlsearch.ingest.sniff import sniff

    doc_type = sniff(path)
    extraction = extract(path, doc_type, limits=limits)
    if enricher is not None and extraction.images:
        if on_images is not None:
            on_images(len(extraction.images))
        extraction = enricher.enrich(extraction)
    return Sniffed(doc_type, extraction)


class IsolatedExtractor:
    """Runs sniff_and_extract in worker processes. Cheap to build; workers start on first use."""

    def __init__(self, *, settings: IsolationSettings) -> None:
        self.settings = settings
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        # idle workers exit on their own when our pipe ends close; this just does it promptly
        weakref.finalize(self, _kill_all, self._idle)

    @property
    def isolated(self) -> bool:
        return self.settings.timeout_s > 0

    def run(self, path: Path, *, limits: Limits, enricher: VisualEnricher | None = None) -> Sniffed:
        """Sniff and extract `path` (and OCR its images when given the enricher: in the worker,
        on an engine of the same settings and one thread, as the parent embeds on every core)."""
        if not self.isolated:
            return sniff_and_extract(path, limits=limits, enricher=enricher)
        ocr = replace(enricher.ocr.spec, threads=1) if enricher is not None else None
        worker = self._checkout()
        try:
            outcome = worker.call(path, limits, ocr, timeout_s=self.settings.timeout_s)
        except _WorkerLost as lost:
            worker.kill()
            raise ExtractionError(lost.reason(path.name, self.settings)) from None
        except BaseException:
            worker.kill()  # e.g. KeyboardInterrupt while waiting: the worker's state is unknown
            raise
        self._checkin(worker)
        kind, value = outcome
        if kind == "ok":
            result: Sniffed = value
            return result
        if kind == "error":
            exc: VlsearchError = value
            # Drop this frame's references before raising: the traceback holds this frame, and a
            # frame holding its own exception is a cycle only the garbage collector frees, keeping
            # every caller's frame (an upload's bytes among them) alive until it runs.
            del value, outcome
            try:
                raise exc
            finally:
                del exc
        # an exception that is not ours: a bug in an extractor or a library it calls
        log.error("extractor bug on %r:\n%s", path.name, value)
        last = str(value).strip().splitlines()[-1] if str(value).strip() else "unknown error"
        raise ExtractionError(
            f"{path.name}: the file could not be read ({last[:300]}); it is probably corrupt. "
            "Re-save it from the original application; if it opens there, report this as a bug"
        )

    def close(self) -> None:
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
        _kill_all(idle)

    # ------------------------------------------------------------------ pool

    def _checkout(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                worker.kill()
        return _Worker.start(memory_mb=self.settings.memory_mb)

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if worker.served < _FILES_PER_WORKER and len(self._idle) < _IDLE_WORKERS and worker.alive:
                self._idle.append(worker)
                return
        worker.kill()


class _WorkerLost(Exception):
    def __init__(self, *, timed_out: bool, exitcode: int | None) -> None:
        super().__init__("worker lost")
        self.timed_out = timed_out
        self.exitcode = exitcode

    def reason(self, name: str, settings: IsolationSettings) -> str:
        if self.timed_out:
            return (
                f"{name}: extraction took longer than {settings.timeout_s:g} s "
                f"(VLSEARCH_EXTRACT_TIMEOUT_S) plus {OCR_S_PER_IMAGE:g} s per image OCR'd, and was "
                "stopped; the file is pathological or very large"
            )
        how = (
            f"signal {-self.exitcode}"
            if self.exitcode is not None and self.exitcode < 0
            else (f"exit code {self.exitcode}")
        )
        return (
            f"{name}: the extractor process died ({how}) reading this file: it is corrupt, or needs "
            f"more than the {settings.memory_mb} MB memory cap (VLSEARCH_EXTRACT_MEMORY_MB)"
        )


class _Worker:
    def __init__(self, process: subprocess.Popen[bytes], send: Connection, recv: Connection) -> None:
        self.process = process
        self.send = send
        self.recv = recv
        self.served = 0

    @classmethod
    def start(cls, *, memory_mb: int) -> _Worker:
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vlsearch.ingest.extract_worker",
                    str(to_child_r),
                    str(to_parent_w),
                    str(memory_mb),
                ],
                pass_fds=(to_child_r, to_parent_w),
                stdin=subprocess.DEVNULL,
                close_fds=True,
                env=_worker_env(),
            )
        except BaseException:
            for fd in (to_child_w, to_parent_r):
                os.close(fd)
            raise
        finally:
            os.close(to_child_r)
            os.close(to_parent_w)
        worker = cls(process, Connection(to_child_w, readable=False), Connection(to_parent_r, writable=False))
        # wait out the interpreter start and imports here, so they never count against a file's limit
        try:
            ready = worker.recv.poll(_START_TIMEOUT_S) and worker.recv.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            worker.kill()
            raise ExtractionError(
                f"the extraction worker did not start within {_START_TIMEOUT_S:g} s "
                f"(exit code {process.returncode}); see the server log for its error"
            )
        return worker

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def call(self, path: Path, limits: Limits, ocr: OcrSpec | None, *, timeout_s: float) -> tuple[str, Any]:
        self.served += 1
        try:
            self.send.send((str(path), limits, ocr))
            deadline = time.monotonic() + timeout_s
            while True:
                if not self.recv.poll(max(0.0, deadline - time.monotonic())):
                    raise _WorkerLost(timed_out=True, exitcode=None)
                outcome: tuple[str, Any] = self.recv.recv()
                if outcome[0] != "ocr":
                    break
                deadline += OCR_S_PER_IMAGE * int(outcome[1])
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=1.0)
            raise _WorkerLost(timed_out=False, exitcode=self.process.returncode) from None
        return outcome

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5.0)
        self.send.close()
        self.recv.close()


def _kill_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


def _worker_env() -> dict[str, str]:
    # the worker imports vlsearch from where this process did, installed or not
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env
