"""Ingest overlaps files (file N+1 extracted while file N embeds) and OCRs in the extraction worker:
the rows are those of one file at a time, in-process; the server never loads OCR models."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.conftest import make_settings
from vlsearch.demo.media import write_demo_media
from vlsearch.demo.writers import Doc, Heading, Para, write_docx, write_pdf
from vlsearch.ingest.pipeline import IngestPipeline
from vlsearch.runtime import Runtime
from vlsearch.types import COLLECTIONS


def _rows(rt: Runtime) -> list[tuple[str, str, str]]:
    """(file name, collection, text) of every row, sorted (ids depend on the data dir's path)."""
    out = []
    for name in COLLECTIONS:
        for items, _ in rt.store.iter_items(name):
            out += [(i.name, name, i.text) for i in items]
    return sorted(out)


def _corpus(root: Path) -> list[Path]:
    media = write_demo_media(root / "media", names=("figure", "rack"))
    docs = [
        write_pdf(
            root / f"manual{k}.pdf",
            Doc(title=f"Manual {k}", blocks=(Heading(f"Unit U-{k}"), Para(f"Unit U-{k} runs at {k} kW."))),
        )
        for k in range(3)
    ]
    docs.append(
        write_docx(root / "guide.docx", Doc(title="Guide", blocks=(Para("Reset the controller C-9."),)))
    )
    return [*docs, media["figure"], media["rack"], docs[0]]  # docs[0] again: its second time is "unchanged"


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[list[str], list[tuple[str, str, str]], Runtime]]]:
    out = {}
    for label, overrides in (("isolated", {}), ("in_process", {"extract_timeout_s": 0})):
        tmp = tmp_path_factory.mktemp(label)
        rt = Runtime.from_settings(make_settings(tmp, **overrides))  # type: ignore[arg-type]
        rt.start()
        files = _corpus(rt.settings.resolved_allowed_roots[0])
        report = rt.pipeline.ingest_paths(files, groups=("public",))
        out[label] = ([r.status for r in report.results], _rows(rt), rt)
    yield out
    for _, _, rt in out.values():
        rt.close()


def test_overlapped_ingest_keeps_order_and_matches_in_process_ocr(runs: dict) -> None:  # type: ignore[type-arg]
    statuses, rows, rt = runs["isolated"]
    assert statuses == ["ingested"] * 6 + ["unchanged"]
    in_process_statuses, in_process_rows, _ = runs["in_process"]
    assert in_process_statuses == statuses
    # the same rows: OCR read in the worker (one thread) what it reads in-process
    assert rows == in_process_rows
    assert any("NODE-07" in text.upper() for _, _, text in rows)  # the rack photo's label
    # the worker did the OCR: this process never built an OCR engine
    assert not rt.pipeline._enricher.ocr.loaded  # type: ignore[union-attr]
    assert runs["in_process"][2].pipeline._enricher.ocr.loaded  # type: ignore[union-attr]


def test_the_next_file_is_extracted_while_this_one_embeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = Runtime.from_settings(make_settings(tmp_path))
    rt.start()
    try:
        root = rt.settings.resolved_allowed_roots[0]
        files = [
            write_docx(root / f"d{k}.docx", Doc(title=f"D{k}", blocks=(Para(f"Text {k} about pumps."),)))
            for k in range(3)
        ]
        spans: dict[tuple[str, str], tuple[float, float, str]] = {}
        extract, embed = IngestPipeline._extract_path, IngestPipeline._embed

        def timed_extract(self, path, groups):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return extract(self, path, groups)
            finally:
                spans[("extract", Path(path).name)] = (
                    started,
                    time.perf_counter(),
                    threading.current_thread().name,
                )

        def timed_embed(self, items):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return embed(self, items)
            finally:
                time.sleep(0.3)  # a slow model, to make the overlap plain
                spans[("embed", items[0].name)] = (
                    started,
                    time.perf_counter(),
                    threading.current_thread().name,
                )

        monkeypatch.setattr(IngestPipeline, "_extract_path", timed_extract)
        monkeypatch.setattr(IngestPipeline, "_embed", timed_embed)
        report = rt.pipeline.ingest_paths(files, groups=("public",))
        assert [r.status for r in report.results] == ["ingested"] * 3
        # files 2 and 3 were extracted on helper threads, each before the file before it had finished
        # embedding (one at a time, file N+1 would start only after file N's write)
        for before, after in itertools.pairwise(files):
            start, _, thread = spans[("extract", after.name)]
            assert thread.startswith("ingest-extract")
            assert start < spans[("embed", before.name)][1]
    finally:
        rt.close()
