"""Query-time highlighting: which stored lines match the query, the snippet and its marks."""

from __future__ import annotations

from vlsearch.evidence.boxes import LineBoxes
from vlsearch.evidence.highlight import Highlighter, snippet_at, term_spans
from vlsearch.types import Item, Locator, Modality


def _page(lines: list[tuple[str, float]]) -> Item:
    """An item whose text is the lines joined, each line boxed at (0.1, y) with height h."""
    text = ""
    spans = []
    for line, height in lines:
        start = len(text)
        text += line + "\n"
        y = 0.05 + 0.04 * len(spans)
        spans.append((start, start + len(line), (0.1, y, 0.9, y + height)))
    return Item(
        id="i1",
        doc_id="d1",
        modality=Modality.TEXT,
        text=text,
        locator=Locator(page=1),
        source="s",
        name="n.pdf",
        doc_type="pdf",
        groups=(),
        lines=LineBoxes.pack(spans),
    )


PAGE = _page(
    [
        ("Cooling and fan maintenance", 0.03),
        ("Each chassis holds one fan tray with six fans.", 0.015),
        ("Replace the fan tray FT-220 every 24 months.", 0.015),
        ("Clean the intake filter monthly with dry air.", 0.015),
        ("Error E-31 means one fan spins below 1500 RPM.", 0.015),
    ]
)


def _best(query: str, item: Item = PAGE, **kw: float) -> list[str]:
    hl = Highlighter(**kw)  # type: ignore[arg-type]
    return [h.text for h in hl.evidence(hl.prepare(query), item).highlights]


def test_the_line_holding_the_rare_query_terms_comes_first() -> None:
    assert _best("what does error E-31 mean")[0].startswith("Error E-31")
    assert _best("how often should the fan tray be replaced")[0].startswith("Replace the fan tray")
    assert _best("cleaning the intake filters")[0].startswith("Clean the intake filter")  # stems


def test_scores_are_shares_best_first_and_weak_lines_are_left_out() -> None:
    hl = Highlighter()
    ev = hl.evidence(hl.prepare("replace the fan tray"), PAGE)
    scores = [h.score for h in ev.highlights]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    assert all(s >= 0.5 * scores[0] for s in scores)
    assert all(0 <= v <= 1 for h in ev.highlights for v in h.box)


def test_a_title_counts_less_than_a_body_line_with_the_same_words() -> None:
    slide = _page(
        [
            ("Restore drill", 0.05),  # the title, set larger
            ("Restore one database every quarter", 0.02),
            ("Record each restore drill in the change log", 0.02),
            ("Target time is four hours", 0.02),
        ]
    )
    assert _best("restore drill log", slide)[0].startswith("Record each restore drill")
    assert _best("restore drill", slide)[0].startswith("Record each restore drill")
    assert _best("restore drill", slide, heading_weight=1.0)[0] == "Restore drill"  # earlier line wins a tie
    # a title holding a term no other line has still wins
    assert _best("fan maintenance")[0].startswith("Cooling")


def test_function_words_alone_highlight_nothing_and_no_lines_means_no_boxes() -> None:
    assert _best("what is the of and") == []
    hl = Highlighter()
    plain = Item(
        id="i2",
        doc_id="d",
        modality=Modality.TEXT,
        text="Replace the fan tray.",
        locator=Locator(),
        source="s",
        name="n.docx",
        doc_type="docx",
        groups=(),
    )
    ev = hl.evidence(hl.prepare("fan tray"), plain)
    assert ev.highlights == ()
    assert [ev.snippet[a:b] for a, b in ev.snippet_spans] == ["fan", "tray"]


def test_chinese_terms_match_without_spaces() -> None:
    item = _page([("电源模块更换步骤", 0.02), ("先确认故障指示灯为琥珀色", 0.02), ("机房温湿度标准", 0.02)])
    assert _best("如何更换电源模块", item)[0] == "电源模块更换步骤"


def test_the_snippet_opens_at_the_best_match_when_it_lies_past_the_first_window() -> None:
    long_text = "Intro sentence about racks. " * 30 + "The torque for M6 bolts is 9 N m. " + "Tail. " * 20
    hl = Highlighter()
    item = Item(
        id="i3",
        doc_id="d",
        modality=Modality.TEXT,
        text=long_text,
        locator=Locator(),
        source="s",
        name="n.docx",
        doc_type="docx",
        groups=(),
    )
    ev = hl.evidence(hl.prepare("M6 bolts torque"), item)
    assert ev.snippet.startswith("…The torque for M6 bolts")
    assert {ev.snippet[a:b].lower() for a, b in ev.snippet_spans} == {"torque", "m6", "bolts"}
    assert snippet_at("short text", 0) == "short text"


def test_stem_marks_widen_to_the_whole_word() -> None:
    hl = Highlighter()
    spans = term_spans("Replacement of replaced parts", hl.prepare("replacing"))
    assert [("Replacement of replaced parts")[a:b] for a, b in spans] == ["Replacement", "replaced"]
