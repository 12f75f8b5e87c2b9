"""`vlsearch doctor`: do the catalog, the Milvus rows and the media files agree? Repair when asked.

Every Milvus row is read once (ids, document, groups, media paths; no vectors) and compared with
the catalog: rows of unknown documents, READY documents whose row count differs from the catalog's,
rows whose groups differ from the document's (an access-control hole), documents a crash left
INDEXING, duplicate ids, rows whose image files are missing, media files no row references, and
kept uploads no document refers to (a deleted document's original).

Repair re-indexes a damaged document from its stored copy when there is one; otherwise it removes
what cannot be trusted and marks the document failed with the reason. Run it with the server
stopped (Milvus Lite enforces that; with a Milvus server an ingest in flight looks interrupted).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vlsearch.catalog import Catalog, DocStatus, DocumentRecord, FileStatus
from vlsearch.config import Settings
from vlsearch.ingest.pipeline import IngestPipeline
from vlsearch.media.stored import UPLOADS, relative_stored_upload
from vlsearch.milvus import Store
from vlsearch.ops.recovery import (
    discard_document_rows,
    documents_with_status,
    fail_interrupted_jobs,
    recover_document,
    unfinished_jobs,
)
from vlsearch.source_ref import SourceRef
from vlsearch.types import COLLECTIONS

# Problem kinds, in the order they are reported.
ORPHAN_ROWS = "orphan_rows"  # rows whose document is not in the catalog
FAILED_WITH_ROWS = "failed_with_rows"  # a failed/pending document that still has rows
INTERRUPTED = "interrupted"  # left INDEXING by a stopped ingest
MISSING_ROWS = "missing_rows"  # READY, catalog counts rows, Milvus has none
COUNT_MISMATCH = "count_mismatch"  # READY, Milvus row count != catalog item_count
GROUP_MISMATCH = "group_mismatch"  # rows carry other groups than the document
DUPLICATE_IDS = "duplicate_ids"  # one id returned twice by a collection
MISSING_MEDIA = "missing_media"  # a row's image or thumbnail file is gone
ORPHAN_MEDIA = "orphan_media"  # media files no row references
MISSING_ORIGINAL = "missing_original"  # an uploaded document's kept copy is gone (download fails)
ORPHAN_UPLOADS = "orphan_uploads"  # kept uploads no document points to (deleted or replaced versions)
UNFINISHED_JOB = "unfinished_job"  # a job still queued/running (a crash, or an ingest in flight)

# Problems fixed by indexing the document again.
_REINDEX = (INTERRUPTED, MISSING_ROWS, COUNT_MISMATCH, GROUP_MISMATCH, DUPLICATE_IDS, MISSING_MEDIA)


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str
    doc_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "doc_id": self.doc_id, "detail": self.detail}


@dataclass(frozen=True)
class DoctorReport:
    documents: int  # in the catalog
    rows: dict[str, int]  # per collection
    problems: tuple[Problem, ...]
    repairs: tuple[str, ...] = ()  # what --repair did, one line each

    @property
    def clean(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def to_dict(self) -> dict[str, object]:
        return {
            "clean": self.clean,
            "documents": self.documents,
            "rows": self.rows,
            "problem_counts": self.counts(),
            "problems": [p.to_dict() for p in self.problems],
            "repairs": list(self.repairs),
        }


@dataclass
class _DocRows:
    count: int = 0
    groups: set[tuple[str, ...]] = field(default_factory=set)
    missing_media: list[str] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Scan:
    records: dict[str, DocumentRecord]
    rows: dict[str, _DocRows]
    per_collection: dict[str, int]
    referenced_media: set[str]
    unfinished_jobs: list[str]
    referenced_uploads: set[str] = field(default_factory=set)


class Doctor:
    """Checks one deployment (the Runtime's settings, catalog, store and pipeline)."""

    def __init__(
        self, *, settings: Settings, catalog: Catalog, store: Store, pipeline: IngestPipeline
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._store = store
        self._pipeline = pipeline

    def check(self) -> DoctorReport:
        scan = self._scan()
        return DoctorReport(
            documents=len(scan.records),
            rows=scan.per_collection,
            problems=tuple(self._problems(scan)),
        )

    def repair(self) -> DoctorReport:
        """Fix what check() finds, then check again; the report lists both the repairs and what is
        left (problems no repair can fix, such as a lost original)."""
        before = self._scan()
        repairs: list[str] = []
        problems = list(self._problems(before))
        by_doc: dict[str, list[Problem]] = {}
        for p in problems:
            if p.doc_id is not None:
                by_doc.setdefault(p.doc_id, []).append(p)
        for p in problems:
            if p.kind == ORPHAN_ROWS and p.doc_id is not None:
                n = self._store.delete_document(p.doc_id)
                shutil.rmtree(self._settings.media_dir / p.doc_id, ignore_errors=True)
                repairs.append(f"{p.doc_id}: removed {n} rows of a document the catalog does not know")
            elif p.kind == FAILED_WITH_ROWS and p.doc_id is not None:
                n = self._store.delete_document(p.doc_id)
                repairs.append(f"{p.doc_id}: removed {n} rows of a document marked failed")
        if any(p.kind == UNFINISHED_JOB for p in problems):
            for job_id in fail_interrupted_jobs(self._catalog):
                repairs.append(f"job {job_id}: marked failed (interrupted)")
        for doc_id, doc_problems in by_doc.items():
            kinds = {p.kind for p in doc_problems}
            record = before.records.get(doc_id)
            if record is None or not kinds & set(_REINDEX):
                continue
            repairs.append(self._repair_document(record, kinds, before.rows.get(doc_id, _DocRows())))
        # media last: a re-index above rewrites files, and orphans are judged on the fresh scan
        after = self._scan()
        repairs.extend(self._remove_orphan_media(after))
        repairs.extend(self._remove_orphan_uploads(after))
        report = self.check()
        return DoctorReport(
            documents=report.documents, rows=report.rows, problems=report.problems, repairs=tuple(repairs)
        )

    # -- scanning ------------------------------------------------------------------------------

    def _scan(self) -> _Scan:
        records = {r.document.id: r for s in DocStatus for r in documents_with_status(self._catalog, s)}
        rows: dict[str, _DocRows] = {}
        per_collection: dict[str, int] = {}
        referenced: set[str] = set()
        data_dir = self._settings.data_dir
        for name in COLLECTIONS:
            seen: set[str] = set()
            n = 0
            for items, _ in self._store.iter_items(name, with_vectors=False):
                for item in items:
                    n += 1
                    stats = rows.setdefault(item.doc_id, _DocRows())
                    if item.id in seen:
                        stats.duplicates += 1
                        continue
                    seen.add(item.id)
                    stats.count += 1
                    stats.groups.add(tuple(sorted(set(item.groups))))
                    for rel in (item.media, item.thumbnail):
                        if not rel:
                            continue
                        referenced.add(rel)
                        if not (data_dir / rel).is_file():
                            stats.missing_media.append(rel)
            per_collection[name] = n
        unfinished = [job.id for job in unfinished_jobs(self._catalog)]
        kept = (relative_stored_upload(data_dir, r.document) for r in records.values())
        uploads = {path for path in kept if path is not None}
        return _Scan(records, rows, per_collection, referenced, unfinished, uploads)

    def _problems(self, scan: _Scan) -> Iterable[Problem]:
        out: list[Problem] = []
        for doc_id in sorted(set(scan.rows) - set(scan.records)):
            out.append(
                Problem(ORPHAN_ROWS, f"{scan.rows[doc_id].count} rows, no catalog record", doc_id=doc_id)
            )
        for doc_id, record in sorted(scan.records.items()):
            out.extend(self._document_problems(record, scan.rows.get(doc_id)))
        orphans = self._orphan_media(scan)
        if orphans:
            shown = ", ".join(p.as_posix() for p in orphans[:5])
            more = f" and {len(orphans) - 5} more" if len(orphans) > 5 else ""
            out.append(Problem(ORPHAN_MEDIA, f"{len(orphans)} unreferenced media paths: {shown}{more}"))
        uploads = self._orphan_uploads(scan)
        if uploads:
            shown = ", ".join(p.as_posix() for p in uploads[:5])
            more = f" and {len(uploads) - 5} more" if len(uploads) > 5 else ""
            out.append(
                Problem(ORPHAN_UPLOADS, f"{len(uploads)} kept uploads no document refers to: {shown}{more}")
            )
        for job_id in scan.unfinished_jobs:
            out.append(Problem(UNFINISHED_JOB, f"job {job_id} is still queued or running"))
        order = {k: i for i, k in enumerate(_KIND_ORDER)}
        return sorted(out, key=lambda p: (order[p.kind], p.doc_id or ""))

    def _document_problems(self, record: DocumentRecord, rows: _DocRows | None) -> list[Problem]:
        doc = record.document
        n = rows.count if rows is not None else 0
        out: list[Problem] = []
        if record.status == DocStatus.INDEXING:
            out.append(Problem(INTERRUPTED, f"{doc.name}: left indexing ({n} rows written)", doc_id=doc.id))
        elif record.status in (DocStatus.FAILED, DocStatus.PENDING):
            if n:
                out.append(
                    Problem(FAILED_WITH_ROWS, f"{doc.name}: {record.status.value} but has {n} rows", doc.id)
                )
        elif n == 0:
            out.append(
                Problem(
                    MISSING_ROWS, f"{doc.name}: ready with {record.item_count} rows, Milvus has none", doc.id
                )
            )
        elif n != record.item_count:
            out.append(
                Problem(COUNT_MISMATCH, f"{doc.name}: catalog {record.item_count} rows, Milvus {n}", doc.id)
            )
        if rows is not None and record.status == DocStatus.READY:
            expected = tuple(sorted(set(doc.groups)))
            other = sorted(g for g in rows.groups if g != expected)
            if other:
                out.append(
                    Problem(
                        GROUP_MISMATCH,
                        f"{doc.name}: rows carry groups {other}, the document has {list(expected)}",
                        doc.id,
                    )
                )
            if rows.duplicates:
                out.append(Problem(DUPLICATE_IDS, f"{doc.name}: {rows.duplicates} duplicate row ids", doc.id))
            if rows.missing_media:
                out.append(
                    Problem(
                        MISSING_MEDIA,
                        f"{doc.name}: {len(rows.missing_media)} media files missing, "
                        f"e.g. {rows.missing_media[0]}",
                        doc.id,
                    )
                )
        if (
            record.status == DocStatus.READY
            and SourceRef.parse(doc.source).keeps_original
            and self._pipeline.stored_copy(doc) is None
        ):
            out.append(Problem(MISSING_ORIGINAL, f"{doc.name}: the kept upload is gone", doc.id))
        return out

    def _orphan_media(self, scan: _Scan) -> list[Path]:
        """Media folders of unknown documents, and files inside known ones that no row references."""
        media_dir = self._settings.media_dir
        if not media_dir.is_dir():
            return []
        data_dir = self._settings.data_dir
        out: list[Path] = []
        for folder in sorted(media_dir.iterdir()):
            if folder.name not in scan.records and folder.name not in scan.rows:
                out.append(folder.relative_to(data_dir))
                continue
            if not folder.is_dir():
                out.append(folder.relative_to(data_dir))
                continue
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(data_dir)
                if path.is_file() and rel.as_posix() not in scan.referenced_media:
                    out.append(rel)
        return out

    def _orphan_uploads(self, scan: _Scan) -> list[Path]:
        """Files under uploads/ that are no document's current original (what a delete or a
        replaced version left behind before deletes removed them, or a crash mid-upload)."""
        data_dir = self._settings.data_dir
        folder = data_dir / UPLOADS
        if not folder.is_dir():
            return []
        return [
            path.relative_to(data_dir)
            for path in sorted(folder.rglob("*"))
            if not path.is_dir() and path.relative_to(data_dir).as_posix() not in scan.referenced_uploads
        ]

    # -- repairing -----------------------------------------------------------------------------

    def _repair_document(self, record: DocumentRecord, kinds: set[str], rows: _DocRows) -> str:
        doc = record.document
        what = ", ".join(sorted(kinds & set(_REINDEX)))
        if self._pipeline.stored_copy(doc) is not None:
            result = recover_document(
                record,
                pipeline=self._pipeline,
                store=self._store,
                catalog=self._catalog,
                media_dir=self._settings.media_dir,
            )
            if result.status is FileStatus.INGESTED:
                return f"{doc.id}: {what}: indexed again from its stored copy ({result.items} rows)"
            return f"{doc.id}: {what}: indexing again failed, rows removed: {result.error}"
        # No copy to rebuild from: keep what can be trusted, remove the rest, say why.
        if kinds & {INTERRUPTED, MISSING_ROWS, GROUP_MISMATCH}:
            reason = f"{what}; no stored copy to index again: ingest the file again"
            n = discard_document_rows(
                store=self._store,
                catalog=self._catalog,
                media_dir=self._settings.media_dir,
                doc_id=doc.id,
                reason=reason,
            )
            return f"{doc.id}: {what}: removed {n} rows and marked failed (no stored copy)"
        if COUNT_MISMATCH in kinds:
            self._catalog.set_status(
                doc.id,
                DocStatus.READY,
                error=f"{record.item_count - rows.count} rows were lost; ingest the file again",
                item_count=rows.count,
            )
            return f"{doc.id}: catalog row count set to the {rows.count} rows Milvus holds (no stored copy)"
        return f"{doc.id}: {what}: not repairable without a stored copy; ingest the file again"

    def _remove_orphan_media(self, scan: _Scan) -> list[str]:
        out = []
        for rel in self._orphan_media(scan):
            path = self._settings.data_dir / rel
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            out.append(f"removed unreferenced media {rel.as_posix()}")
        return out

    def _remove_orphan_uploads(self, scan: _Scan) -> list[str]:
        out = []
        for rel in self._orphan_uploads(scan):
            (self._settings.data_dir / rel).unlink(missing_ok=True)
            out.append(f"removed unreferenced upload {rel.as_posix()}")
        root = self._settings.data_dir / UPLOADS
        if root.is_dir():  # the folders those files leave empty, deepest first
            for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                if not any(folder.iterdir()):
                    folder.rmdir()
        return out


_KIND_ORDER = (
    ORPHAN_ROWS,
    FAILED_WITH_ROWS,
    INTERRUPTED,
    MISSING_ROWS,
    COUNT_MISMATCH,
    GROUP_MISMATCH,
    DUPLICATE_IDS,
    MISSING_MEDIA,
    MISSING_ORIGINAL,
    ORPHAN_MEDIA,
    ORPHAN_UPLOADS,
    UNFINISHED_JOB,
)
