"""Document queries: one record per document, its groups in their own table so "visible to any of
the caller's groups" is an indexed EXISTS on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from vlsearch.catalog.connection import CatalogConnection, now, utc
from vlsearch.catalog.records import DocStatus, DocumentRecord
from vlsearch.catalog.tables import document_groups as _groups_t
from vlsearch.catalog.tables import documents as _docs
from vlsearch.errors import NotFoundError
from vlsearch.types import Document


def _visible_to(groups: tuple[str, ...]) -> ColumnElement[bool]:
    member = (
        select(_groups_t.c.doc_id)
        .where(_groups_t.c.doc_id == _docs.c.id)
        .where(_groups_t.c.group_name.in_(sorted(set(groups))))
    )
    return member.exists()


class DocumentQueries(CatalogConnection):
    def get_document(self, doc_id: str) -> DocumentRecord | None:
        with self._e().connect() as conn:
            row = conn.execute(select(_docs).where(_docs.c.id == doc_id)).mappings().first()
            return None if row is None else _record(conn, row)

    def statuses(self, doc_ids: Iterable[str]) -> dict[str, DocStatus]:
        """Status per known document, in one query (a search hides unsettled documents with it)."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        stmt = select(_docs.c.id, _docs.c.status).where(_docs.c.id.in_(ids))
        with self._e().connect() as conn:
            return {row.id: DocStatus(row.status) for row in conn.execute(stmt)}

    def find_by_source(self, source: str) -> DocumentRecord | None:
        stmt = select(_docs).where(_docs.c.source == source).order_by(_docs.c.updated_at.desc()).limit(1)
        with self._e().connect() as conn:
            row = conn.execute(stmt).mappings().first()
            return None if row is None else _record(conn, row)

    def put_document(
        self, doc: Document, *, status: DocStatus, error: str = "", item_count: int = 0
    ) -> DocumentRecord:
        """Insert or replace a document's record (created_at survives a replace)."""
        at = now()
        values = {
            "source": doc.source,
            "name": doc.name,
            "sha256": doc.sha256,
            "doc_type": doc.doc_type,
            "size_bytes": doc.size_bytes,
            "title": doc.title,
            "status": DocStatus(status).value,
            "error": error,
            "item_count": item_count,
            "updated_at": at,
        }
        with self._e().begin() as conn:
            # one atomic upsert: two workers re-ingesting the same document must not both INSERT;
            # on PostgreSQL it also row-locks the document, serialising the group rewrite below
            dialect = pg_dialect if conn.dialect.name == "postgresql" else sqlite_dialect
            stmt = dialect.insert(_docs).values(id=doc.id, created_at=at, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=[_docs.c.id], set_=values))
            conn.execute(delete(_groups_t).where(_groups_t.c.doc_id == doc.id))
            groups = sorted(set(doc.groups))
            if groups:
                conn.execute(insert(_groups_t), [{"doc_id": doc.id, "group_name": g} for g in groups])
            row = conn.execute(select(_docs).where(_docs.c.id == doc.id)).mappings().one()
            return _record(conn, row)

    def set_status(
        self, doc_id: str, status: DocStatus, *, error: str = "", item_count: int | None = None
    ) -> None:
        values: dict[str, Any] = {"status": DocStatus(status).value, "error": error, "updated_at": now()}
        if item_count is not None:
            values["item_count"] = item_count
        with self._e().begin() as conn:
            changed = conn.execute(update(_docs).where(_docs.c.id == doc_id).values(**values))
            if not changed.rowcount:
                raise NotFoundError(f"document {doc_id} is not in the catalog; ingest it first")

    def list_documents(
        self,
        *,
        groups: tuple[str, ...] | None,
        doc_type: str | None = None,
        status: DocStatus | None = None,
        query: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[DocumentRecord], int]:
        """One page of documents visible to `groups` (None = all, () = none), newest first, and
        the total that match."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must be >= 0")
        if groups is not None and not groups:
            return [], 0
        conds: list[ColumnElement[bool]] = []
        if groups is not None:
            conds.append(_visible_to(groups))
        if doc_type:
            conds.append(_docs.c.doc_type == doc_type)
        if status is not None:
            conds.append(_docs.c.status == DocStatus(status).value)
        if query:
            conds.append(func.lower(_docs.c.name).contains(query.lower(), autoescape=True))
        page = (
            select(_docs)
            .where(*conds)
            .order_by(_docs.c.updated_at.desc(), _docs.c.id)
            .offset(offset)
            .limit(limit)
        )
        total_stmt = select(func.count()).select_from(_docs).where(*conds)
        with self._e().connect() as conn:
            total = int(conn.execute(total_stmt).scalar_one())
            rows = conn.execute(page).mappings().all()
            groups_by_doc = _groups_of(conn, [r["id"] for r in rows])
            records = [_record(conn, r, groups_by_doc.get(r["id"], ())) for r in rows]
        return records, total

    def delete_document(self, doc_id: str) -> bool:
        with self._e().begin() as conn:
            conn.execute(delete(_groups_t).where(_groups_t.c.doc_id == doc_id))
            return bool(conn.execute(delete(_docs).where(_docs.c.id == doc_id)).rowcount)

    def status_counts(self, *, groups: tuple[str, ...] | None = None) -> dict[str, int]:
        """Documents per status (visible to `groups`; None = all), every status present (0 when none)."""
        counts = {s.value: 0 for s in DocStatus}
        if groups is not None and not groups:
            return counts
        stmt = select(_docs.c.status, func.count()).group_by(_docs.c.status)
        if groups is not None:
            stmt = stmt.where(_visible_to(groups))
        with self._e().connect() as conn:
            for status, n in conn.execute(stmt):
                counts[status] = int(n)
        return counts


def _groups_of(conn: Connection, doc_ids: list[str]) -> dict[str, tuple[str, ...]]:
    if not doc_ids:
        return {}
    stmt = (
        select(_groups_t.c.doc_id, _groups_t.c.group_name)
        .where(_groups_t.c.doc_id.in_(doc_ids))
        .order_by(_groups_t.c.doc_id, _groups_t.c.group_name)
    )
    out: dict[str, list[str]] = {}
    for doc_id, group in conn.execute(stmt):
        out.setdefault(doc_id, []).append(group)
    return {k: tuple(v) for k, v in out.items()}


def _record(conn: Connection, row: Any, groups: tuple[str, ...] | None = None) -> DocumentRecord:
    if groups is None:
        groups = _groups_of(conn, [row["id"]]).get(row["id"], ())
    doc = Document(
        id=row["id"],
        source=row["source"],
        name=row["name"],
        sha256=row["sha256"],
        doc_type=row["doc_type"],
        groups=groups,
        size_bytes=row["size_bytes"],
        title=row["title"],
    )
    return DocumentRecord(
        document=doc,
        status=DocStatus(row["status"]),
        error=row["error"],
        item_count=row["item_count"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )
