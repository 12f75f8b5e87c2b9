from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vlsearch.demo.corpus import DEMO_FILES, build_demo_corpus
from vlsearch.ingest.chunking import chunk_blocks, count_tokens
from vlsearch.ingest.extractors import extract
from vlsearch.ingest.limits import Limits
from vlsearch.ingest.sniff import sniff
from vlsearch.types import Extraction


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return build_demo_corpus(tmp_path_factory.mktemp("demo") / "data" / "demo")


@pytest.fixture(scope="session")
def extracted(corpus: list[Path]) -> dict[str, Extraction]:
    limits = Limits()
    return {p.name: extract(p, sniff(p), limits=limits) for p in corpus}


def _text(ex: Extraction) -> str:
    return "\n".join(b.text for b in ex.blocks)


def test_corpus_has_every_format(corpus: list[Path]) -> None:
    assert [p.name for p in corpus] == list(DEMO_FILES)
    assert {sniff(p) for p in corpus} == {"pdf", "docx", "pptx", "xlsx", "html", "markdown", "text"}
    assert not list(corpus[0].parent.glob(".*.tmp"))


def test_corpus_is_deterministic(corpus: list[Path], tmp_path: Path) -> None:
    again = build_demo_corpus(tmp_path)
    for a, b in zip(corpus, again, strict=True):
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest(), a.name


def test_every_file_extracts_and_chunks(extracted: dict[str, Extraction]) -> None:
    for name, ex in extracted.items():
        assert ex.title, name
        assert not ex.warnings, (name, ex.warnings)
        chunks = chunk_blocks(ex.blocks, max_tokens=200, overlap=40)
        assert chunks, name
        assert sum(count_tokens(c.text) for c in chunks) > 200, name  # substantive, not a stub


def test_node07_manual(extracted: dict[str, Extraction]) -> None:
    ex = extracted["node07_hardware_diagnostic_manual.pdf"]
    assert ex.meta["pages"] >= 4
    code_page = {b.locator.page or 0 for b in ex.blocks if "E-17" in b.text and "DIMM B2" in b.text}
    assert code_page and min(code_page) >= 2
    assert "red warning light" in _text(ex)
    kinds = sorted(im.kind for im in ex.images)
    assert kinds == ["figure", "page"]  # front-panel figure + the scanned service label page
    (page,) = [im for im in ex.images if im.kind == "page"]
    assert ex.meta["scanned_pages"] == [page.locator.page]
    assert not [b for b in ex.blocks if b.locator.page == page.locator.page]


def test_other_documents(extracted: dict[str, Extraction]) -> None:
    assert "Node-07" in _text(extracted["weekly_ops_report_2026_w46.docx"])
    sop = _text(extracted["server_racking_sop.docx"])
    for step in ("1. Unbox", "Install the rails", "slide it into the rack", "Fasten the screws"):
        assert step in sop
    parts = extracted["spare_parts_inventory.xlsx"]
    assert any(
        "Part number: MEM-32G-DDR5" in b.text and b.locator.sheet == "Spare Parts" for b in parts.blocks
    )
    raid = extracted["raid_controller_error_codes.xlsx"]
    assert any("Code: R-204" in b.text for b in raid.blocks)
    deck = extracted["datacenter_onboarding_training.pptx"]
    assert any(b.text.startswith("Notes:") for b in deck.blocks) and deck.images
    assert "电源模块" in _text(extracted["psu_replacement_procedure_zh.docx"])
    assert "冷通道" in _text(extracted["datacenter_climate_standard_zh.md"])
    assert "红色告警灯" in _text(extracted["datacenter_inspection_guide_zh.html"])
