"""Extraction in worker processes: the time limit, the memory cap and a dying worker each cost one
file with a reason naming the setting, and the next file is read normally."""

from __future__ import annotations

import os
import signal
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import files as F
from vlsearch.errors import ExtractionError, TooLargeError
from vlsearch.ingest.isolation import IsolatedExtractor, IsolationSettings, sniff_and_extract
from vlsearch.ingest.limits import Limits

LIMITS = Limits()


def flat_png(width: int, height: int) -> bytes:
    """A real, fully decodable black PNG (compresses ~300x, so big sizes are cheap to write)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = zlib.compress(bytes((width * 3 + 1) * height), 1)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("isolation")
    out = {"docx": F.base_docx(d / "good.docx", "Isolation keeps pump P-7 ingest safe.")}
    out["slow.pdf"] = d / "slow.pdf"
    out["slow.pdf"].write_bytes(F.pdf_path_storm(100_000))  # 18 KB, ~5 s of pdfium work
    out["big.png"] = d / "big.png"
    out["big.png"].write_bytes(flat_png(6000, 6000))  # 36 MP: under the pixel limit, ~110 MB a copy
    out["bomb.png"] = d / "bomb.png"
    out["bomb.png"].write_bytes(F.png_with_header(100_000, 100_000))
    return out


@pytest.fixture()
def extractor() -> Iterator[IsolatedExtractor]:
    iso = IsolatedExtractor(settings=IsolationSettings(timeout_s=0.4, memory_mb=500))
    yield iso
    iso.close()


def test_results_and_errors_cross_the_process_boundary(
    extractor: IsolatedExtractor, files: dict[str, Path]
) -> None:
    extractor.settings = IsolationSettings(timeout_s=30, memory_mb=500)
    here = sniff_and_extract(files["docx"], limits=LIMITS)
    there = extractor.run(files["docx"], limits=LIMITS)
    assert there == here  # frozen dataclasses, equal field by field
    with pytest.raises(TooLargeError, match="max_image_pixels"):
        extractor.run(files["bomb.png"], limits=LIMITS)  # our own error type, message intact
    assert extractor.run(files["docx"], limits=LIMITS).doc_type == "docx"


def test_a_file_over_the_time_limit_is_stopped_and_the_next_one_is_read(
    extractor: IsolatedExtractor, files: dict[str, Path]
) -> None:
    extractor.run(files["docx"], limits=LIMITS)  # worker started outside the timed call
    started = time.perf_counter()
    with pytest.raises(ExtractionError, match=r"longer than 0.4 s \(VLSEARCH_EXTRACT_TIMEOUT_S\)"):
        extractor.run(files["slow.pdf"], limits=LIMITS)
    assert time.perf_counter() - started < 5
    extractor.settings = IsolationSettings(timeout_s=30, memory_mb=500)
    assert extractor.run(files["docx"], limits=LIMITS).extraction.blocks


def test_the_memory_cap_fails_the_file_not_the_host(
    extractor: IsolatedExtractor, files: dict[str, Path]
) -> None:
    extractor.settings = IsolationSettings(timeout_s=30, memory_mb=500)
    with pytest.raises(ExtractionError, match=r"500 MB memory cap \(VLSEARCH_EXTRACT_MEMORY_MB\)"):
        extractor.run(files["big.png"], limits=LIMITS)
    assert extractor.run(files["docx"], limits=LIMITS).extraction.blocks
    roomy = IsolatedExtractor(settings=IsolationSettings(timeout_s=60, memory_mb=4096))
    try:
        assert roomy.run(files["big.png"], limits=LIMITS).extraction.images  # the default cap reads it
    finally:
        roomy.close()


def test_a_worker_that_dies_costs_one_file(extractor: IsolatedExtractor, files: dict[str, Path]) -> None:
    extractor.settings = IsolationSettings(timeout_s=30, memory_mb=500)
    extractor.run(files["docx"], limits=LIMITS)
    (worker,) = extractor._idle  # the warm worker the next file will use
    pid = worker.process.pid
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))  # a native crash, from outside
    killer.start()
    try:
        with pytest.raises(ExtractionError, match=r"died \(signal 9\)"):
            extractor.run(files["slow.pdf"], limits=LIMITS)
    finally:
        killer.cancel()
    assert extractor.run(files["docx"], limits=LIMITS).extraction.blocks
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not a zombie


def test_zero_timeout_runs_in_process(files: dict[str, Path]) -> None:
    inline = IsolatedExtractor(settings=IsolationSettings(timeout_s=0))
    assert not inline.isolated
    assert inline.run(files["docx"], limits=LIMITS).extraction.blocks
    assert inline._idle == []
