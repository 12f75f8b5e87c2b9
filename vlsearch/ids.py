"""Deterministic identifiers: re-ingesting the same source yields the same ids (idempotent upserts)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def doc_id_for(source: str) -> str:
    return "d" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:20]


def item_id_for(doc_id: str, kind: str, locator_json: str, ordinal: int) -> str:
    key = f"{doc_id}\x1f{kind}\x1f{locator_json}\x1f{ordinal}"
    return "i" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:28]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
