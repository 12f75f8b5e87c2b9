"""`vlsearch export DIR` / `vlsearch import DIR`: a whole deployment as plain files.

    DIR/manifest.json              written last: its presence means the export is complete
    DIR/catalog/<table>.jsonl      every catalog row (documents, groups, jobs, ...)
    DIR/milvus/<collection>.jsonl  every row's scalar fields (an Item per line)
    DIR/milvus/<collection>.npy    the rows' dense vectors, float32, in the same order
    DIR/files/media/...            stored images and thumbnails
    DIR/files/uploads/...          kept uploads (originals for download and re-indexing)

BM25 vectors are not exported: Milvus derives them from the text on insert. Import goes through
Store.upsert, so the target may be another Milvus Lite file or a Milvus server (the way from the
embedded default to a server); it refuses a target configured with another embedder or dimension,
and a target that already holds documents.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from vlsearch.catalog import Catalog, DocStatus
from vlsearch.config import Settings
from vlsearch.errors import EmbedderMismatchError, InputRejectedError
from vlsearch.media.stored import relative_stored_upload
from vlsearch.milvus import Store
from vlsearch.milvus.rows import locator_json, row_item
from vlsearch.milvus.schema import SCHEMA_VERSION
from vlsearch.ops.recovery import documents_with_status
from vlsearch.types import COLLECTIONS, Item
from vlsearch.version import __version__

FORMAT = "vlsearch-export"
FORMAT_VERSION = 1
_FILE_DIRS = ("media", "uploads")
_BATCH = 1000


@dataclass(frozen=True)
class Manifest:
    format_version: int
    vlsearch_version: str
    schema_version: str
    embedder_id: str
    dim: int
    created_at: str
    rows: dict[str, int]  # per collection
    catalog_rows: dict[str, int]  # per table
    files: int

    def to_json(self) -> str:
        payload = {"format": FORMAT, **self.__dict__}
        return json.dumps(payload, indent=2, sort_keys=True)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / "manifest.json"
        if not path.is_file():
            raise InputRejectedError(
                f"{folder} holds no manifest.json: it is not a vlsearch export, or the export did not finish"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise InputRejectedError(f"{path} is not a vlsearch export manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise InputRejectedError(
                f"{path} has export format {data.get('format_version')}; this vlsearch reads {FORMAT_VERSION}"
            )
        return cls(
            format_version=int(data["format_version"]),
            vlsearch_version=str(data["vlsearch_version"]),
            schema_version=str(data["schema_version"]),
            embedder_id=str(data["embedder_id"]),
            dim=int(data["dim"]),
            created_at=str(data["created_at"]),
            rows={str(k): int(v) for k, v in data["rows"].items()},
            catalog_rows={str(k): int(v) for k, v in data["catalog_rows"].items()},
            files=int(data["files"]),
        )

    def check_target(self, *, embedder_id: str, dim: int) -> None:
        """Refuse a target whose vectors would live in another space than the exported ones."""
        if embedder_id != self.embedder_id or dim != self.dim:
            raise EmbedderMismatchError(
                f"the export was made with embedder {self.embedder_id} (dim {self.dim}); this deployment is "
                f"configured with {embedder_id} (dim {dim}): set VLSEARCH_EMBEDDER (and "
                "VLSEARCH_EMBEDDER_DIM) to match, or ingest the documents again instead"
            )


@dataclass(frozen=True)
class ImportReport:
    manifest: Manifest
    rows: dict[str, int]
    catalog_rows: dict[str, int]
    files: int


def export_deployment(*, settings: Settings, catalog: Catalog, store: Store, dest: Path) -> Manifest:
    """Write the deployment to `dest` (new or empty). Stop the server first: rows written during an
    export may be missing from it."""
    if dest.exists() and any(dest.iterdir()):
        raise InputRejectedError(f"{dest} is not empty; export into a new folder")
    (dest / "catalog").mkdir(parents=True, exist_ok=True)
    (dest / "milvus").mkdir(exist_ok=True)
    referenced: set[str] = set()  # data-dir-relative files the export needs, and nothing else
    rows = {name: _export_collection(store, name, dest / "milvus", referenced) for name in COLLECTIONS}
    catalog_rows = {}
    for table in catalog.table_names():
        with (dest / "catalog" / f"{table}.jsonl").open("w", encoding="utf-8") as out:
            n = 0
            for row in catalog.export_rows(table):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        catalog_rows[table] = n
    for status in DocStatus:
        for record in documents_with_status(catalog, status):
            kept = relative_stored_upload(settings.data_dir, record.document)
            if kept is not None:
                referenced.add(kept)
    # Only what rows and documents refer to: files of deleted documents (orphans, which `vlsearch
    # doctor --repair` removes) must not come back to life in another deployment.
    files = _copy_referenced(settings.data_dir, dest / "files", referenced)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        vlsearch_version=__version__,
        schema_version=SCHEMA_VERSION,
        embedder_id=store.embedder_id,
        dim=store.dim,
        created_at=datetime.now(UTC).isoformat(),
        rows=rows,
        catalog_rows=catalog_rows,
        files=files,
    )
    (dest / "manifest.json").write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest


def import_deployment(*, settings: Settings, catalog: Catalog, store: Store, src: Path) -> ImportReport:
    """Load an export into an empty deployment (store connected, catalog open)."""
    manifest = Manifest.read(src)
    manifest.check_target(embedder_id=store.embedder_id, dim=store.dim)
    documents = catalog.row_count("documents")
    held = store.count()
    if documents or held:
        raise InputRejectedError(
            f"the target already holds {documents} documents and {held} rows; import into a new data dir "
            "(or an empty Milvus database and catalog)"
        )
    for sub in _FILE_DIRS:
        folder = src / "files" / sub
        if folder.is_dir():
            shutil.copytree(folder, settings.data_dir / sub, dirs_exist_ok=True)
    files = sum(1 for sub in _FILE_DIRS for p in (settings.data_dir / sub).rglob("*") if p.is_file())
    rows = {name: _import_collection(store, src / "milvus", name) for name in COLLECTIONS}
    # the catalog last: until it is loaded, no document claims rows that may not all be there yet
    catalog_rows = {}
    for table in catalog.table_names():
        path = src / "catalog" / f"{table}.jsonl"
        loaded = 0
        for batch in _jsonl_batches(path):
            loaded += catalog.import_rows(table, batch)
        catalog_rows[table] = loaded
    mismatched = {k: (manifest.rows.get(k, 0), v) for k, v in rows.items() if manifest.rows.get(k, 0) != v}
    if mismatched:
        raise InputRejectedError(
            f"imported row counts differ from the manifest (expected, got): {mismatched}"
        )
    return ImportReport(manifest=manifest, rows=rows, catalog_rows=catalog_rows, files=files)


def _copy_referenced(data_dir: Path, dest: Path, referenced: set[str]) -> int:
    copied = 0
    for rel in sorted(referenced):
        if Path(rel).parts[:1] not in (("media",), ("uploads",)):
            continue  # rows name files under the data dir's media; anything else is not exported
        src = data_dir / rel
        if not src.is_file():
            continue  # a missing file is a problem `vlsearch doctor` reports
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        copied += 1
    return copied


def _export_collection(store: Store, name: str, folder: Path, referenced: set[str]) -> int:
    vectors: list[np.ndarray] = []
    n = 0
    with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
        for items, vecs in store.iter_items(name, with_vectors=True, batch_size=_BATCH):
            assert vecs is not None  # with_vectors=True
            for item in items:
                out.write(json.dumps(_item_dict(item), ensure_ascii=False) + "\n")
                referenced.update(p for p in (item.media, item.thumbnail) if p)
            vectors.append(vecs)
            n += len(items)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, store.dim), dtype=np.float32)
    np.save(folder / f"{name}.npy", matrix.astype(np.float32, copy=False))
    return n


def _import_collection(store: Store, folder: Path, name: str) -> int:
    jsonl = folder / f"{name}.jsonl"
    if not jsonl.is_file():
        return 0
    matrix = np.load(folder / f"{name}.npy", mmap_mode="r")
    if matrix.ndim != 2 or matrix.shape[1] != store.dim:
        raise InputRejectedError(
            f"{folder / name}.npy has shape {matrix.shape}; expected (rows, {store.dim})"
        )
    n = 0
    for batch in _jsonl_batches(jsonl):
        items = [row_item(d) for d in batch]  # the exported dicts hold a row's fields
        if n + len(items) > matrix.shape[0]:
            raise InputRejectedError(f"{jsonl} has more rows than {name}.npy has vectors; export again")
        store.upsert(items, np.asarray(matrix[n : n + len(items)], dtype=np.float32))
        n += len(items)
    if n != matrix.shape[0]:
        raise InputRejectedError(f"{jsonl} has {n} rows but {name}.npy has {matrix.shape[0]} vectors")
    return n


def _jsonl_batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    if not path.is_file():
        return
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                batch.append(json.loads(line))
            if len(batch) >= _BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _item_dict(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "doc_id": item.doc_id,
        "modality": item.modality.value,
        "text": item.text,
        "locator": locator_json(item),  # line boxes included
        "source": item.source,
        "name": item.name,
        "doc_type": item.doc_type,
        "groups": list(item.groups),
        "media": item.media,
        "thumbnail": item.thumbnail,
    }
