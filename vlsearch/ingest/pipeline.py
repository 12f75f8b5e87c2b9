"""The ingest pipeline: file → sniff → extract → OCR → chunk → embed → Milvus upsert → catalog.

One file failing never stops the batch and never loses what is already indexed: the new rows are
computed completely before anything is written, and a failed re-ingest keeps the previous version.
A batch of files runs as a two-stage pipeline: while one file embeds and is written (this thread),
the next ones are extracted, OCR'd and chunked on helper threads (parsing and OCR run in extraction
worker processes), so extraction costs no wall time where embedding dominates.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vlsearch.catalog import Catalog, DocStatus, DocumentRecord, FileResult, FileStatus
from vlsearch.errors import InputRejectedError, TooLargeError, VlsearchError
from vlsearch.evidence.align import locate_lines
from vlsearch.ids import doc_id_for, item_id_for, sha256_bytes, sha256_file
from vlsearch.ingest.chunking import chunk_blocks
from vlsearch.ingest.isolation import IsolatedExtractor, IsolationSettings
from vlsearch.ingest.limits import Limits
from vlsearch.ingest.paths import check_allowed, expand, name_problem, shown_name
from vlsearch.media import save_image_variants
from vlsearch.media.store import StoredMedia
from vlsearch.media.stored import keep_only_version, remove_document_files, upload_source
from vlsearch.milvus import Store
from vlsearch.models.base import Embedder
from vlsearch.models.gate import lease_of
from vlsearch.source_ref import SourceRef, upload_version_path
from vlsearch.types import (
    Document,
    EmbedInput,
    Extraction,
    Item,
    Locator,
    Modality,
    PageLayout,
    Role,
    TextBlock,
)

if TYPE_CHECKING:
    from vlsearch.config import Settings
    from vlsearch.ingest.visual import VisualEnricher

log = logging.getLogger(__name__)

Progress = Callable[[FileResult], None]


@dataclass(frozen=True)
class TextRecord:
    """A ready-made text document (BEIR corpus row, API text upload)."""

    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class IngestReport:
    results: tuple[FileResult, ...]
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def items(self) -> int:
        return sum(r.items for r in self.results)


@dataclass(frozen=True)
class _Extracted:
    """A file read and chunked, not yet embedded."""

    document: Document
    items: tuple[Item, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Prepared:
    document: Document
    items: tuple[Item, ...]
    vectors: np.ndarray
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Pending:
    """One file of a batch between the two stages: extracted, or already settled (failed,
    unchanged)."""

    name: str
    doc_id: str | None
    source: str
    groups: tuple[str, ...]
    previous: DocumentRecord | None = None
    extracted: _Extracted | None = None
    result: FileResult | None = None


# Files extracted ahead of the one embedding: two keep both cores busy when a run of image or video
# files (OCR, one thread per worker process) follows files that embed quickly.
EXTRACT_AHEAD = 2
# Texts per embedder call: a text embedder sorts and packs a call's texts into batches itself, so
# one call per few hundred chunks keeps padding low; a multimodal one gets `batch_size` at a time.
_TEXT_EMBED_CALL = 256


_UNSAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def printable(text: str) -> str:
    """Control and bidi-override characters (newlines, U+202E, ...) as '_': names and reasons end up
    in logs, the catalog and the UI, where they could forge lines or reverse how a name reads."""
    return "".join(ch if ch.isprintable() else "_" for ch in text)


def safe_name(name: str) -> str:
    """A display/file name without directories or control characters."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE_NAME.sub("_", "".join(ch for ch in base if ch.isprintable())).strip(" .")
    return cleaned[:200] or "upload"


class IngestPipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        catalog: Catalog,
        embedder: Embedder,
        enricher: VisualEnricher | None = None,
        batch_size: int = 32,
    ) -> None:
        self._settings = settings
        self._store = store
        self._catalog = catalog
        self._embedder = embedder
        self._enricher = enricher
        self._batch_size = batch_size
        self._limits = Limits.from_settings(settings)
        # sniff + extract run in a worker process under a time limit and a memory cap
        self._extractor = IsolatedExtractor(settings=IsolationSettings.from_settings(settings))

    # ------------------------------------------------------------------ public API

    def ingest_paths(
        self,
        paths: Iterable[Path],
        *,
        groups: Sequence[str],
        job_id: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest files in order. The next EXTRACT_AHEAD files are extracted (and OCR'd), each in its
        own worker process, while this one embeds and is written; results come in file order."""
        started = time.perf_counter()
        results: list[FileResult] = []
        group_t = tuple(groups)
        files = list(expand(Path(p) for p in paths))
        doc_ids = [self._doc_id_of(f) for f in files]
        with ThreadPoolExecutor(max_workers=EXTRACT_AHEAD, thread_name_prefix="ingest-extract") as ahead:
            upcoming: dict[int, Future[_Pending]] = {}
            for i, path in enumerate(files):
                future = upcoming.pop(i, None)
                for j in range(i + 1, min(len(files), i + 1 + EXTRACT_AHEAD)):
                    # a document already due earlier waits: its "unchanged" check must see that write
                    if j not in upcoming and doc_ids[j] not in doc_ids[i:j]:
                        upcoming[j] = ahead.submit(self._extract_path, files[j], group_t)
                try:
                    pending = future.result() if future is not None else self._extract_path(path, group_t)
                    result = self._finish(pending)
                except Exception as exc:  # one file's surprise fails that file; the batch goes on
                    log.exception("ingest of %s failed", shown_name(path))
                    reason = printable(f"internal error: {exc!r}")
                    result = FileResult(
                        name=printable(shown_name(path)),
                        status=FileStatus.FAILED,
                        doc_id=None,
                        error=reason,
                        items=0,
                    )
                results.append(result)
                if job_id is not None:
                    self._catalog.add_job_result(job_id, result)
                if progress is not None:
                    progress(result)
        self._store.flush_pending()  # rows of small files are flushed together, not one by one
        return IngestReport(tuple(results), time.perf_counter() - started)

    def ingest_file(self, path: Path, *, groups: Sequence[str]) -> FileResult:
        return self._finish(self._extract_path(path, tuple(groups)))

    def _doc_id_of(self, path: Path) -> str | None:
        if name_problem(path) is not None:
            return None
        try:
            return doc_id_for(str(check_allowed(path, self._settings.resolved_allowed_roots)))
        except InputRejectedError:
            return None

    def _extract_path(self, path: Path, groups: tuple[str, ...]) -> _Pending:
        problem = name_problem(path)
        if problem is not None:
            shown = printable(shown_name(path))
            result = FileResult(
                name=shown, status=FileStatus.FAILED, doc_id=None, error=printable(problem), items=0
            )
            return _Pending(name=shown, doc_id=None, source=shown, groups=groups, result=result)
        try:
            resolved = check_allowed(path, self._settings.resolved_allowed_roots)
        except InputRejectedError as exc:
            result = FileResult(
                name=printable(str(path)),
                status=FileStatus.FAILED,
                doc_id=None,
                error=printable(str(exc)),
                items=0,
            )
            return _Pending(name=result.name, doc_id=None, source=str(path), groups=groups, result=result)
        return self._extract_resolved(
            resolved, source=str(resolved), name=printable(resolved.name), groups=groups
        )

    def ingest_upload(
        self, name: str, data: bytes, *, groups: Sequence[str], job_id: str | None = None
    ) -> FileResult:
        """Store uploaded bytes under the data dir, then ingest them like a file (tests, small
        texts); uploads of any size go through `ingest_upload_file`, which never reads them whole."""
        spool = self._settings.data_dir / "tmp"
        spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=spool, prefix="upload-", delete=False) as fh:
            fh.write(data)
        return self.ingest_upload_file(name, Path(fh.name), groups=groups, job_id=job_id, move=True)

    def ingest_upload_file(
        self,
        name: str,
        path: Path,
        *,
        groups: Sequence[str],
        job_id: str | None = None,
        move: bool = False,
    ) -> FileResult:
        """Keep an uploaded file (moved, or copied when `move` is false) as the original of the
        document `upload:<groups>/<name>`, then ingest it. Streams: the file is hashed and copied in
        chunks and extracted in a worker process, never read into this process whole."""
        clean = safe_name(name)
        source = upload_source(clean, groups)
        doc_id = doc_id_for(source)
        size = path.stat().st_size
        if size > self._limits.max_file_bytes:
            reason = str(TooLargeError(self._too_large(size)))
            result = FileResult(name=clean, status=FileStatus.FAILED, doc_id=None, error=reason, items=0)
            if move:
                path.unlink(missing_ok=True)
        else:
            digest = sha256_file(path)
            target = upload_version_path(self._settings.data_dir, doc_id, digest, clean)
            target.parent.mkdir(parents=True, exist_ok=True)
            if move:
                shutil.move(path, target)
            else:
                shutil.copyfile(path, target)
            result = self._ingest_resolved(target.resolve(), source=source, name=clean, groups=groups)
            self._settle_versions(doc_id)
        if job_id is not None:
            self._catalog.add_job_result(job_id, result)
        return result

    def _settle_versions(self, doc_id: str) -> None:
        """Keep only the version of the original the catalog points to (none after a failure)."""
        record = self._catalog.get_document(doc_id)
        current = record.document.sha256 if record is not None and record.document.sha256 else None
        keep_only_version(self._settings.data_dir, doc_id, current)

    def ingest_records(self, records: Iterable[TextRecord], *, groups: Sequence[str]) -> IngestReport:
        """Index ready-made texts (one document each), embedding across records in large batches."""
        started = time.perf_counter()
        group_t = tuple(groups)
        results: list[FileResult] = []
        pending: list[tuple[Document, list[Item]]] = []
        for record in records:
            source = str(SourceRef.record(record.id))
            doc = Document(
                id=doc_id_for(source),
                source=source,
                name=record.title or record.id,
                sha256=sha256_bytes(f"{record.title}\n{record.text}".encode()),
                doc_type="text",
                groups=group_t,
                size_bytes=len(record.text.encode()),
                title=record.title,
            )
            text = f"{record.title}\n{record.text}".strip() if record.title else record.text
            blocks = [TextBlock(text=text, locator=Locator())]
            pending.append((doc, self._text_items(doc, blocks)))
        all_items = [item for _, items in pending for item in items]
        vectors = self._embed(all_items)
        self._store.upsert(all_items, vectors)
        self._store.flush_pending()
        for doc, items in pending:
            self._catalog.put_document(doc, status=DocStatus.READY, item_count=len(items))
            results.append(
                FileResult(
                    name=doc.name, status=FileStatus.INGESTED, doc_id=doc.id, error="", items=len(items)
                )
            )
        return IngestReport(tuple(results), time.perf_counter() - started)

    def close(self) -> None:
        """Stop the extraction worker processes (they also exit when this process does)."""
        self._extractor.close()

    def delete_document(self, doc_id: str) -> bool:
        record = self._catalog.get_document(doc_id)
        if record is not None:
            # a crash part-way then leaves a failed record, not a ready one without rows that
            # `vlsearch doctor --repair` would index again from the kept copy
            self._catalog.set_status(doc_id, DocStatus.FAILED, error="deletion interrupted; delete it again")
        removed = self._store.delete_document(doc_id)
        shutil.rmtree(self._media_folder(doc_id), ignore_errors=True)
        # the kept original goes too; the record last, so a crash before it leaves a failed record
        remove_document_files(self._settings.data_dir, record.document if record else None, doc_id)
        deleted = self._catalog.delete_document(doc_id)
        if record is not None and SourceRef.parse(record.document.source).keeps_original:
            log.info("deleted uploaded document %s (%d rows)", doc_id, removed)
        return deleted or removed > 0

    # ------------------------------------------------------------------ internals

    def _ingest_resolved(self, path: Path, *, source: str, name: str, groups: Sequence[str]) -> FileResult:
        return self._finish(self._extract_resolved(path, source=source, name=name, groups=tuple(groups)))

    def _extract_resolved(self, path: Path, *, source: str, name: str, groups: tuple[str, ...]) -> _Pending:
        """Stage one: everything before embedding. Failures are recorded here, as they happen."""
        doc_id = doc_id_for(source)
        previous = self._catalog.get_document(doc_id)
        pending = _Pending(name=name, doc_id=doc_id, source=source, groups=groups, previous=previous)
        try:
            extracted = self._extract(path, doc_id=doc_id, source=source, name=name, groups=groups)
        except _Unchanged:
            return replace(
                pending,
                result=FileResult(name=name, status=FileStatus.UNCHANGED, doc_id=doc_id, error="", items=0),
            )
        except VlsearchError as exc:
            return replace(
                pending, result=self._record_failure(name, doc_id, source, previous, str(exc), groups)
            )
        except Exception as exc:  # an extractor bug must fail this file only, with its reason kept
            log.exception("unexpected error ingesting %s", path)
            failure = self._record_failure(name, doc_id, source, previous, f"internal error: {exc!r}", groups)
            return replace(pending, result=failure)
        return replace(pending, extracted=extracted)

    def _finish(self, pending: _Pending) -> FileResult:
        """Stage two: embed and write an extracted file (a settled one passes through)."""
        if pending.result is not None:
            return pending.result
        extracted = pending.extracted
        assert extracted is not None and pending.doc_id is not None
        try:
            vectors = self._embed(extracted.items)
        except Exception as exc:  # a model error fails this file only, with its reason kept
            if not isinstance(exc, VlsearchError):
                log.exception("unexpected error embedding %s", pending.name)
            reason = str(exc) if isinstance(exc, VlsearchError) else f"internal error: {exc!r}"
            return self._record_failure(
                pending.name, pending.doc_id, pending.source, pending.previous, reason, pending.groups
            )
        prepared = _Prepared(extracted.document, extracted.items, vectors, extracted.warnings)
        self._write(prepared)
        return FileResult(
            name=pending.name,
            status=FileStatus.INGESTED,
            doc_id=pending.doc_id,
            error="",
            items=len(prepared.items),
        )

    def _write(self, prepared: _Prepared) -> None:
        """Replace the document's rows; a failure keeps the previous version's.

        The catalog says INDEXING while rows change, so start-up recovery and `vlsearch doctor`
        find a document a crash interrupted, and searches leave the document out for that moment
        (vlsearch.retrieve.visibility) rather than show a mix of two versions. New rows are upserted
        first (item ids are deterministic, so unchanged parts overwrite themselves), then the old
        version's rows the new one lacks are deleted by id, so the store never holds an emptied
        document."""
        doc = prepared.document
        self._catalog.put_document(doc, status=DocStatus.INDEXING, item_count=len(prepared.items))
        try:
            self._store.upsert(prepared.items, prepared.vectors)
            keep = {item.id for item in prepared.items}
            # asked even on a first ingest: rows can outlive their catalog record (a record removed
            # by hand, a catalog restored from an older backup), and one id query is cheap
            stale = [i for i in self._store.item_ids(doc.id) if i not in keep]
            if stale:
                old = self._store.get(stale)
                # a page render is the media of every text row of its page: keep what kept rows show
                shown = {p for item in prepared.items for p in (item.media, item.thumbnail) if p}
                stale_media = {p for item in old for p in (item.media, item.thumbnail) if p} - shown
                self._store.delete_ids(stale)
                for rel in stale_media:
                    (self._settings.data_dir / rel).unlink(missing_ok=True)
        except Exception as exc:
            reason = f"indexing stopped part-way ({exc}); ingest again or run `vlsearch doctor --repair`"
            self._catalog.set_status(doc.id, DocStatus.FAILED, error=printable(reason))
            raise
        self._catalog.put_document(
            doc, status=DocStatus.READY, error="; ".join(prepared.warnings), item_count=len(prepared.items)
        )

    def stored_copy(self, doc: Document) -> Path | None:
        """Where the document's file can be read again (the kept upload, or its source path), or
        None when it is gone (re-indexing after a crash, `vlsearch doctor --repair`)."""
        ref = SourceRef.parse(doc.source)
        return ref.stored_copy(self._settings.data_dir, doc_id=doc.id, sha256=doc.sha256, name=doc.name)

    def reingest(self, doc: Document) -> FileResult:
        """Index a catalog document again from `stored_copy`, even when its content is unchanged."""
        path = self.stored_copy(doc)
        if path is None:
            raise InputRejectedError(f"{doc.name}: no stored copy of {doc.source} is left; ingest it again")
        if not SourceRef.parse(doc.source).keeps_original:
            path = check_allowed(path, self._settings.resolved_allowed_roots)
        # INDEXING (not READY) makes _extract skip its "unchanged" shortcut
        self._catalog.set_status(doc.id, DocStatus.INDEXING)
        return self._ingest_resolved(path, source=doc.source, name=doc.name, groups=doc.groups)

    def _extract(
        self, path: Path, *, doc_id: str, source: str, name: str, groups: tuple[str, ...]
    ) -> _Extracted:
        size = path.stat().st_size
        if size > self._limits.max_file_bytes:
            raise TooLargeError(self._too_large(size))
        digest = sha256_file(path)
        previous = self._catalog.get_document(doc_id)
        if (
            previous is not None
            and previous.status == DocStatus.READY
            and previous.document.sha256 == digest
            and tuple(previous.document.groups) == groups
        ):
            raise _Unchanged
        extraction = self._extractor.run(path, limits=self._limits, enricher=self._enricher).extraction
        document = Document(
            id=doc_id,
            source=source,
            name=name,
            sha256=digest,
            doc_type=extraction.doc_type,
            groups=groups,
            size_bytes=size,
            title=printable(extraction.title).strip() or name,
        )
        visual = self._visual_items(document, extraction)
        # a scanned page's render (an image row's media) is also what its OCR text chunks show
        page_media = {
            item.locator.page: StoredMedia(item.media, item.thumbnail)
            for item, image in zip(visual, extraction.images, strict=True)
            if image.kind == "page" and item.locator.page is not None
        }
        items = self._text_items(document, extraction.blocks, layouts=extraction.pages, page_media=page_media)
        items += visual
        if not items:
            raise InputRejectedError(f"{name}: no text or images found to index")
        return _Extracted(document, tuple(items), extraction.warnings)

    def _text_items(
        self,
        doc: Document,
        blocks: Sequence[TextBlock],
        *,
        layouts: Sequence[PageLayout] = (),
        page_media: dict[int, StoredMedia] | None = None,
    ) -> list[Item]:
        """Chunks as rows. A chunk on a page with a layout shows that page (its preview, or the
        scanned page's render) as its media, with the chunk's lines boxed on it."""
        chunks = chunk_blocks(
            blocks, max_tokens=self._settings.chunk_tokens, overlap=self._settings.chunk_overlap
        )
        by_page = {layout.page: layout for layout in layouts}
        shown = dict(page_media or {})
        items = []
        for i, chunk in enumerate(chunks):
            if not chunk.text.strip():
                continue
            item = Item(
                id=item_id_for(doc.id, "text", chunk.locator.to_json(), i),
                doc_id=doc.id,
                modality=Modality.TEXT,
                text=chunk.text,
                locator=chunk.locator,
                source=doc.source,
                name=doc.name,
                doc_type=doc.doc_type,
                groups=doc.groups,
            )
            layout = by_page.get(chunk.locator.page) if chunk.locator.page is not None else None
            if layout is not None:
                media = shown.get(layout.page)
                if media is None and layout.image:
                    media = save_image_variants(
                        layout.image,
                        folder=self._media_folder(doc.id),
                        stem=f"page-{layout.page:05d}",
                        data_dir=self._settings.data_dir,
                        keep_encoded=True,
                    )
                    shown[layout.page] = media
                if media is not None:
                    item = replace(
                        item,
                        media=media.media,
                        thumbnail=media.thumbnail,
                        lines=locate_lines(chunk.text, layout.lines),
                    )
            items.append(item)
        return items

    def _visual_items(self, doc: Document, extraction: Extraction) -> list[Item]:
        items: list[Item] = []
        folder = self._media_folder(doc.id)
        for i, image in enumerate(extraction.images):
            item_id = item_id_for(doc.id, image.modality.value, image.locator.to_json(), i)
            media, thumb = save_image_variants(
                image.data, folder=folder, stem=item_id, data_dir=self._settings.data_dir
            )
            text = image.context.strip() or f"{doc.title} {image.kind}".strip()
            items.append(
                Item(
                    id=item_id,
                    doc_id=doc.id,
                    modality=image.modality,
                    text=text,
                    locator=image.locator,
                    source=doc.source,
                    name=doc.name,
                    doc_type=doc.doc_type,
                    groups=doc.groups,
                    media=media,
                    thumbnail=thumb,
                    lines=locate_lines(text, image.lines),
                )
            )
        return items

    def _embed(self, items: Sequence[Item]) -> np.ndarray:
        data_dir = self._settings.data_dir
        multimodal = self._embedder.multimodal
        # a text row's media is its page, shown with the hit: the row is still embedded as text
        inputs = [
            EmbedInput(text=item.text, images=(str(data_dir / item.media),))
            if multimodal and item.media and item.modality is not Modality.TEXT
            else EmbedInput(text=item.text)
            for item in items
        ]
        step = self._batch_size if multimodal else max(self._batch_size, _TEXT_EMBED_CALL)
        # one lease for the whole document: an unload waits for it rather than failing a later batch,
        # and a document that arrives during an unload waits for it rather than failing
        with lease_of(self._embedder, wait=True):
            parts = [
                self._embedder.embed(inputs[i : i + step], role=Role.DOCUMENT)
                for i in range(0, len(inputs), step)
            ]
        if not parts:
            return np.zeros((0, self._embedder.dim), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _record_failure(
        self,
        name: str,
        doc_id: str,
        source: str,
        previous: DocumentRecord | None,
        reason: str,
        groups: tuple[str, ...],
    ) -> FileResult:
        # reasons are shown to whoever uploaded the file: never the server's own folders
        data_dir = self._settings.data_dir
        for folder in sorted({str(data_dir.resolve()), str(data_dir.absolute())}, key=len, reverse=True):
            reason = reason.replace(folder, "<data dir>")
        reason = printable(reason)
        if previous is not None and previous.status == DocStatus.READY:
            # keep the indexed version searchable; say the update failed
            self._catalog.set_status(
                doc_id, DocStatus.READY, error=f"update failed, previous version kept: {reason}"
            )
        else:
            # the failure is visible to whoever may see the file, so they can read the reason
            placeholder = Document(
                id=doc_id, source=source, name=name, sha256="", doc_type="unknown", groups=groups, title=name
            )
            if previous is not None:
                placeholder = replace(previous.document, sha256="")
            self._catalog.put_document(placeholder, status=DocStatus.FAILED, error=reason)
        log.warning("ingest failed for %s: %s", name, reason)
        return FileResult(name=name, status=FileStatus.FAILED, doc_id=doc_id, error=reason, items=0)

    def _media_folder(self, doc_id: str) -> Path:
        return self._settings.media_dir / doc_id

    def _too_large(self, size: int) -> str:
        limit_mb = self._limits.max_file_bytes / 1e6
        return f"file is {size / 1e6:.1f} MB, over the {limit_mb:.0f} MB limit (VLSEARCH_MAX_FILE_MB)"


class _Unchanged(Exception):
    """Same content and groups as the indexed version: nothing to do."""
