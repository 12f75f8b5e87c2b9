from __future__ import annotations

import itertools
import re

import pytest

from vlsearch.ingest.chunking import chunk_blocks, count_tokens
from vlsearch.types import Locator, TextBlock

EN = [
    f"Sentence number {i} explains how the {word} subsystem of Node-07 reports faults to the BMC."
    for i, word in enumerate(
        ["power", "memory", "fan", "disk", "network", "raid", "bios", "thermal", "psu", "nvme"]
    )
]
ZH = [
    "电源模块更换前请确认备件型号一致。",
    "断开故障模块的电源线并等待十秒！",
    "按住释放卡扣将模块平稳拔出；",
    "将新模块推入槽位直到卡扣锁定。",
    "重新连接电源线并确认状态灯变绿？",
    "在管理界面中清除事件日志。",
    "确认电源冗余状态已经恢复。",
    "把故障模块贴上标签后返还备件库。",
]


def test_count_tokens_approximation() -> None:
    assert count_tokens("") == 0
    assert count_tokens("机房温湿度") == 5  # one per CJK character
    assert count_tokens("red light") == 2
    assert count_tokens("diagnostic") == 2  # one per started 6 letters
    assert count_tokens("E-17") == 3  # "E", "-", "17"
    assert count_tokens("Node-07 红灯。") == 6


def test_chunks_never_cross_locators_and_indexes_are_unique() -> None:
    blocks = [TextBlock(" ".join(EN), Locator(page=1)), TextBlock(" ".join(EN[:3]), Locator(page=2))]
    blocks += [TextBlock(" ".join(EN[3:6]), Locator(page=1))]  # page 1 again, after page 2
    chunks = chunk_blocks(blocks, max_tokens=50, overlap=10)
    assert {c.locator.page for c in chunks} == {1, 2}
    keys = [(c.locator.page, c.locator.index) for c in chunks]
    assert len(keys) == len(set(keys))
    page2 = [c for c in chunks if c.locator.page == 2]
    assert "Sentence number 0" in page2[0].text and "Sentence number 9" not in " ".join(c.text for c in page2)
    for c in chunks:
        assert count_tokens(c.text) <= 50


def test_english_breaks_at_sentences_with_overlap() -> None:
    chunks = chunk_blocks([TextBlock(" ".join(EN), Locator(page=3))], max_tokens=60, overlap=20)
    assert len(chunks) > 2
    for c in chunks:
        assert count_tokens(c.text) <= 60
        assert c.text.endswith(".")  # cut at a sentence end, not mid-sentence
    for prev, nxt in itertools.pairwise(chunks):
        first_sentence = re.match(r".*?\.", nxt.text)
        assert first_sentence is not None and first_sentence.group() in prev.text  # overlap carried over
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in EN)  # nothing lost


def test_overlap_zero_has_no_repeats() -> None:
    chunks = chunk_blocks([TextBlock(" ".join(EN), Locator())], max_tokens=60, overlap=0)
    joined = " ".join(c.text for c in chunks)
    assert all(joined.count(s) == 1 for s in EN)


def test_chinese_splits_at_chinese_punctuation() -> None:
    text = "".join(ZH)
    chunks = chunk_blocks([TextBlock(text, Locator(slide=2))], max_tokens=40, overlap=8)
    assert len(chunks) >= 3
    for c in chunks:
        assert count_tokens(c.text) <= 40
        assert c.text[-1] in "。！？；"
        assert c.locator.slide == 2
    joined = "".join(c.text for c in chunks)
    assert all(s in joined for s in ZH)
    # overlap: the start of each chunk repeats the end of the previous one
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.text[:4] in prev.text


def test_mixed_language_and_run_on_text() -> None:
    mixed = "Node-07 的红色告警灯亮起表示 critical hardware fault，请查看 LCD 上的错误代码 E-17。" * 6
    chunks = chunk_blocks([TextBlock(mixed, Locator())], max_tokens=45, overlap=5)
    assert all(count_tokens(c.text) <= 45 for c in chunks)
    run_on = "a" * 2000  # no spaces, no punctuation: must still be cut to size
    pieces = chunk_blocks([TextBlock(run_on, Locator())], max_tokens=20, overlap=0)
    assert "".join(p.text for p in pieces) == run_on
    assert all(count_tokens(p.text) <= 20 for p in pieces)


def test_heading_is_context_not_a_chunk() -> None:
    sec = ("Guide", "Power")
    blocks = [
        TextBlock("Guide", Locator(heading=("Guide",)), is_heading=True),  # only subsections: no chunk
        TextBlock("Power", Locator(heading=sec), is_heading=True),
        TextBlock(" ".join(EN[:6]), Locator(heading=sec)),
        TextBlock(EN[6], Locator(heading=sec)),
        TextBlock("Cooling", Locator(heading=("Guide", "Cooling")), is_heading=True),
        TextBlock(EN[7], Locator(heading=("Guide", "Cooling"))),
        TextBlock("Appendix", Locator(heading=("Guide", "Appendix")), is_heading=True),  # empty: own chunk
    ]
    chunks = chunk_blocks(blocks, max_tokens=60, overlap=0)
    assert not [c for c in chunks if c.locator.heading == ("Guide",)]
    assert chunks[-1].text == "Appendix" and chunks[-1].locator.heading == ("Guide", "Appendix")
    power = [c for c in chunks if c.locator.heading == sec]
    assert len(power) >= 2
    assert all(c.text.startswith("Guide › Power\n") for c in power)
    assert all(count_tokens(c.text) <= 60 for c in power)
    assert EN[6] in power[-1].text  # paragraphs of one section are packed together
    (cooling,) = [c for c in chunks if c.locator.heading == ("Guide", "Cooling")]
    assert cooling.text == f"Guide › Cooling\n{EN[7]}"


def test_slide_title_prefixes_slide_chunks() -> None:
    blocks = [
        TextBlock("Escalation", Locator(slide=4), is_heading=True),
        TextBlock("P1 within 15 minutes", Locator(slide=4)),
        TextBlock("Notes: the duty manager is paged.", Locator(slide=4)),
    ]
    (chunk,) = chunk_blocks(blocks, max_tokens=100, overlap=10)
    assert chunk.text == "Escalation\nP1 within 15 minutes\nNotes: the duty manager is paged."
    assert chunk.locator == Locator(slide=4, index=0)


def test_rejects_tiny_budget() -> None:
    with pytest.raises(ValueError, match="too small"):
        chunk_blocks([TextBlock("x", Locator())], max_tokens=4, overlap=0)
