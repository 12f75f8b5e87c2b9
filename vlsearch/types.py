"""Immutable records passed between stages (ingest → store → retrieve → rerank → API).

Every stage takes and returns these frozen dataclasses; nothing downstream mutates what an
upstream stage produced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from vlsearch.evidence.boxes import NO_LINES, Box, LineBoxes


class Modality(StrEnum):
    """What a searchable row is; each modality lives in its own Milvus collection."""

    TEXT = "text"
    IMAGE = "image"
    FRAME = "frame"

    @property
    def collection(self) -> str:
        return _COLLECTIONS[self]


_COLLECTIONS = {Modality.TEXT: "chunks", Modality.IMAGE: "images", Modality.FRAME: "frames"}
COLLECTIONS: tuple[str, ...] = tuple(_COLLECTIONS.values())


class Role(StrEnum):
    """Which side of retrieval an input is on: embedders prompt queries and documents differently."""

    QUERY = "query"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Locator:
    """Where inside its document a row comes from. Unused fields stay None."""

    page: int | None = None  # 1-based PDF page
    slide: int | None = None  # 1-based PPTX slide
    sheet: str | None = None  # XLSX sheet name
    row_start: int | None = None  # 1-based spreadsheet rows (inclusive)
    row_end: int | None = None
    heading: tuple[str, ...] = ()  # heading path, outermost first
    t_start: float | None = None  # seconds into a video
    t_end: float | None = None
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in page points / pixels
    index: int | None = None  # ordinal of the block/figure inside the unit above

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Locator:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if "heading" in kwargs:
            kwargs["heading"] = tuple(kwargs["heading"])
        if kwargs.get("bbox") is not None:
            kwargs["bbox"] = tuple(kwargs["bbox"])
        return cls(**kwargs)

    def label(self) -> str:
        """A short human label: 'p. 3', 'slide 2', 'Sheet1 rows 4-9', '01:05-01:07'."""
        parts: list[str] = []
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.slide is not None:
            parts.append(f"slide {self.slide}")
        if self.sheet is not None:
            rows = ""
            if self.row_start is not None:
                rows = (
                    f" rows {self.row_start}-{self.row_end if self.row_end is not None else self.row_start}"
                )
            parts.append(f"{self.sheet}{rows}")
        if self.t_start is not None:
            end = f"-{_clock(self.t_end)}" if self.t_end is not None else ""
            parts.append(f"{_clock(self.t_start)}{end}")
        if self.heading:
            parts.append(" › ".join(self.heading))
        return " · ".join(parts)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


@dataclass(frozen=True)
class Document:
    """One ingested source file, as the catalog knows it."""

    id: str
    source: str  # canonical path, or "upload:<name>" for uploaded files
    name: str  # display name (file name)
    sha256: str
    doc_type: str  # pdf, docx, pptx, xlsx, html, markdown, text, image, video
    groups: tuple[str, ...]
    size_bytes: int = 0
    title: str = ""


@dataclass(frozen=True)
class TextBlock:
    """A unit of extracted text (paragraph, heading, table row group, slide text, OCR of a page)."""

    text: str
    locator: Locator
    is_heading: bool = False


@dataclass(frozen=True)
class TextLine:
    """One line of text as it appears on a page or image, its box normalised to [0, 1] of it."""

    text: str
    box: Box


@dataclass(frozen=True)
class ImageBlock:
    """An extracted image: standalone photo, embedded figure, page render or video keyframe."""

    data: bytes  # encoded image (PNG/JPEG), already size-checked
    locator: Locator
    modality: Modality = Modality.IMAGE  # IMAGE or FRAME
    context: str = ""  # caption / nearby paragraph, searchable together with OCR text
    kind: str = "figure"  # figure | photo | page | keyframe
    lines: tuple[TextLine, ...] = ()  # OCR lines on this image, in reading order


@dataclass(frozen=True)
class PageLayout:
    """Where the text of one PDF page sits, so its text chunks can show their lines on the page.

    `image`: the page rendered (encoded), the media of the page's text hits; empty when the page
    is already an image row (a scanned page, whose render is that row's media) or over the cap.
    """

    page: int
    lines: tuple[TextLine, ...]
    image: bytes = b""


@dataclass(frozen=True)
class Extraction:
    """What an extractor returns for one file."""

    doc_type: str
    title: str = ""
    blocks: tuple[TextBlock, ...] = ()
    images: tuple[ImageBlock, ...] = ()
    warnings: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    pages: tuple[PageLayout, ...] = ()  # text line positions per PDF page (see PageLayout)


@dataclass(frozen=True)
class Item:
    """One searchable row (a text chunk, an image, a video keyframe) before or after storage."""

    id: str
    doc_id: str
    modality: Modality
    text: str  # chunk text, or OCR text + context + caption for images/frames (BM25 + CPU embedding)
    locator: Locator
    source: str
    name: str
    doc_type: str
    groups: tuple[str, ...]
    media: str = ""  # path relative to the data dir of the stored image / keyframe / page render
    thumbnail: str = ""  # path relative to the data dir of a small preview
    # where lines of `text` sit on `media` (evidence.boxes); not part of the row id, and empty for
    # rows without positions (DOCX, HTML, spreadsheets) and rows stored before positions existed
    lines: LineBoxes = NO_LINES

    @property
    def collection(self) -> str:
        return self.modality.collection


@dataclass(frozen=True)
class EmbedInput:
    """What an embedder sees for one row or query. CPU embedders use only `text`."""

    text: str = ""
    images: tuple[str, ...] = ()  # absolute image paths
    video_frames: tuple[str, ...] = ()  # absolute paths of frames in time order


@dataclass(frozen=True)
class SearchFilter:
    """Validated restrictions for a search; turned into a Milvus expression by milvus.filters only."""

    doc_types: tuple[str, ...] = ()
    modalities: tuple[Modality, ...] = ()
    doc_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None  # None = unrestricted (auth off); () = sees nothing


@dataclass(frozen=True)
class Candidate:
    """A retrieved row with its retrieval evidence."""

    item: Item
    score: float  # fused retrieval score, higher is better
    dense_score: float | None = None
    bm25_score: float | None = None
    found_by: tuple[str, ...] = ()  # "dense", "bm25"


@dataclass(frozen=True)
class Highlight:
    """A line of a hit that matches the query, boxed on the hit's media."""

    box: Box  # [0, 1] of the media (page render, figure, slide image, keyframe)
    text: str
    score: float  # 0..1: the share of the query's term weight the line holds


@dataclass(frozen=True)
class Evidence:
    """Where a hit answers the query: boxes on its media and the query's words in its snippet."""

    highlights: tuple[Highlight, ...] = ()  # best first
    snippet: str = ""  # the passage shown for the hit (a window of its text around the best match)
    snippet_spans: tuple[tuple[int, int], ...] = ()  # [start, end) of query words in `snippet`


@dataclass(frozen=True)
class Hit:
    """A final result: candidate plus optional rerank score and its rank (1-based)."""

    candidate: Candidate
    rank: int
    rerank_score: float | None = None
    evidence: Evidence | None = None  # set by the search service when it highlights

    @property
    def item(self) -> Item:
        return self.candidate.item

    @property
    def score(self) -> float:
        return self.rerank_score if self.rerank_score is not None else self.candidate.score

    def to_dict(self) -> dict[str, Any]:
        item = self.candidate.item
        return {
            "rank": self.rank,
            "id": item.id,
            "doc_id": item.doc_id,
            "name": item.name,
            "source": item.source,
            "doc_type": item.doc_type,
            "modality": item.modality.value,
            "locator": item.locator.to_dict(),
            "locator_label": item.locator.label(),
            "text": item.text,
            "media": item.media,
            "thumbnail": item.thumbnail,
            "score": self.score,
            "retrieval_score": self.candidate.score,
            "dense_score": self.candidate.dense_score,
            "bm25_score": self.candidate.bm25_score,
            "rerank_score": self.rerank_score,
            "found_by": list(self.candidate.found_by),
            "highlights": [
                {"box": list(h.box), "text": h.text, "score": h.score}
                for h in (self.evidence.highlights if self.evidence else ())
            ],
        }


@dataclass(frozen=True)
class Query:
    """A search request after validation; media already turned into local files."""

    text: str = ""
    image_paths: tuple[str, ...] = ()
    video_path: str | None = None
    filters: SearchFilter = SearchFilter()
    top_k: int = 10
    rerank: bool = True
    instruction: str | None = None
    per_doc_limit: int = 1  # how many hits one document may contribute to the top-k (0 = unlimited)


def as_json(obj: Any) -> str:
    return json.dumps(asdict(obj), ensure_ascii=False, default=str)
