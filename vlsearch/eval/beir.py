"""BEIR layout on disk: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels.tsv."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vlsearch.errors import InputRejectedError


@dataclass(frozen=True)
class BeirDoc:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirQuery:
    id: str
    text: str


Qrels = Mapping[str, Mapping[str, int]]  # query id -> doc id -> graded relevance (> 0 relevant)


@dataclass(frozen=True)
class BeirSet:
    name: str
    corpus: tuple[BeirDoc, ...]
    queries: tuple[BeirQuery, ...]
    qrels: Qrels


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InputRejectedError(
                    f"{path}:{n} is not valid JSON ({exc}); expected one object a line"
                ) from exc
            if not isinstance(row, dict) or "_id" not in row:
                raise InputRejectedError(f"{path}:{n} has no '_id'; BEIR rows need _id (and text)")
            rows.append(row)
    return rows


def load_corpus(path: Path) -> list[BeirDoc]:
    return [
        BeirDoc(id=str(r["_id"]), title=str(r.get("title") or ""), text=str(r.get("text") or ""))
        for r in _read_jsonl(path)
    ]


def load_queries(path: Path) -> list[BeirQuery]:
    return [BeirQuery(id=str(r["_id"]), text=str(r.get("text") or "")) for r in _read_jsonl(path)]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["query-id", "corpus-id", "score"]:
            raise InputRejectedError(f"{path} must start with the header 'query-id<TAB>corpus-id<TAB>score'")
        for n, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) < 3:
                raise InputRejectedError(f"{path}:{n} needs three tab-separated columns")
            qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
    return qrels


def load_set(corpus: Path, queries: Path, qrels: Path, *, name: str = "") -> BeirSet:
    return BeirSet(
        name=name or corpus.parent.name,
        corpus=tuple(load_corpus(corpus)),
        queries=tuple(load_queries(queries)),
        qrels=load_qrels(qrels),
    )


def load_dir(path: Path) -> BeirSet:
    return load_set(path / "corpus.jsonl", path / "queries.jsonl", path / "qrels.tsv", name=path.name)


def write_set(beir: BeirSet, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(
        out_dir / "corpus.jsonl", ({"_id": d.id, "title": d.title, "text": d.text} for d in beir.corpus)
    )
    _write_jsonl(out_dir / "queries.jsonl", ({"_id": q.id, "text": q.text} for q in beir.queries))
    with (out_dir / "qrels.tsv").open("w", encoding="utf-8", newline="") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in beir.qrels.items():
            for did, score in docs.items():
                fh.write(f"{qid}\t{did}\t{score}\n")
    return out_dir


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
