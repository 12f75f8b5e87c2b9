"""Whole-table rows for `vlsearch export` / `vlsearch import` (vlsearch.ops.backup)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, func, insert, select

from vlsearch.catalog.connection import CatalogConnection, utc
from vlsearch.catalog.tables import metadata, table


class BackupRows(CatalogConnection):
    def table_names(self) -> list[str]:
        """Catalog tables, parents before children (the order to load them in)."""
        return [t.name for t in metadata.sorted_tables]

    def export_rows(self, table_name: str) -> Iterator[dict[str, Any]]:
        """Every row of one table as JSON-ready values (datetimes as ISO-8601 UTC strings)."""
        t = table(table_name)
        order = list(t.primary_key.columns)
        with self._e().connect() as conn:
            for row in conn.execute(select(t).order_by(*order)).mappings():
                yield {k: (utc(v).isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}

    def import_rows(self, table_name: str, rows: list[dict[str, Any]]) -> int:
        """Insert rows written by `export_rows`. Integer autoincrement keys are dropped so the
        database numbers them again (a PostgreSQL sequence would otherwise collide later)."""
        t = table(table_name)
        if not rows:
            return 0
        renumbered = {
            c.name for c in t.primary_key.columns if isinstance(c.type, Integer) and c.autoincrement is True
        }
        dates = {c.name for c in t.columns if isinstance(c.type, DateTime)}
        known = {c.name for c in t.columns}
        clean = [
            {
                k: (datetime.fromisoformat(v) if k in dates and isinstance(v, str) else v)
                for k, v in row.items()
                if k in known and k not in renumbered
            }
            for row in rows
        ]
        with self._e().begin() as conn:
            conn.execute(insert(t), clean)
        return len(clean)

    def row_count(self, table_name: str) -> int:
        with self._e().connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table(table_name))).scalar_one())
