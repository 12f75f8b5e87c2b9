"""Grounding score: does a correct hit box the answer line among its top highlights?

A query of a set may name its answer regions (vlsearch.eval.grounding_set writes such a set): the
document, the unit the answer is on (a page, a slide, a stretch of video) and the answer line's box
in [0, 1] of that page / slide image / frame. A query's hit is *correct* when it is the first hit,
in rank order, from the answer's document and unit; its grounding succeeds when one of the hit's
top `k` highlight boxes overlaps the answer box with IoU >= 0.5. Queries whose top hits hold no
correct hit are counted apart (a retrieval miss, not a grounding one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vlsearch.types import Hit

IOU_THRESHOLD = 0.5
TOP_BOXES = 3
GROUNDING_DEPTH = 10  # hits searched for the correct one


@dataclass(frozen=True)
class AnswerRegion:
    doc: str  # corpus id
    box: tuple[float, float, float, float]
    text: str = ""
    kind: str = ""  # pdf | scanned | slides | video | … (the table's rows)
    page: int | None = None
    slide: int | None = None
    t: tuple[float, float] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerRegion:
        box = tuple(float(v) for v in data["box"])
        if len(box) != 4:
            raise ValueError(f"an answer box has four numbers, got {data['box']!r}")
        t = data.get("t")
        return cls(
            doc=str(data["doc"]),
            box=(box[0], box[1], box[2], box[3]),
            text=str(data.get("text") or ""),
            kind=str(data.get("kind") or "all"),
            page=int(data["page"]) if data.get("page") is not None else None,
            slide=int(data["slide"]) if data.get("slide") is not None else None,
            t=(float(t[0]), float(t[1])) if t else None,
        )

    def holds(self, hit: Hit, corpus_id: str) -> bool:
        """Whether `hit` (of corpus document `corpus_id`) is on this region's page / slide / moment."""
        if corpus_id != self.doc:
            return False
        loc = hit.item.locator
        if self.page is not None and loc.page != self.page:
            return False
        if self.slide is not None and loc.slide != self.slide:
            return False
        if self.t is not None:
            if loc.t_start is None:
                return False
            # the keyframe was taken inside the answer's stretch
            return self.t[0] - 1e-6 <= loc.t_start < self.t[1]
        return True


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class GroundingOutcome:
    query_id: str
    kind: str
    correct_rank: int | None  # rank of the correct hit, None when none was in the top hits
    box_rank: int | None  # 1-based rank of the first highlight with IoU >= 0.5, None when none
    best_iou: float  # best IoU of the correct hit's top-k boxes with the answer box
    boxes: int  # highlights the correct hit carried

    @property
    def grounded(self) -> bool:
        return self.box_rank is not None and self.box_rank <= TOP_BOXES


def judge(
    query_id: str, regions: Sequence[AnswerRegion], hits: Sequence[Hit], corpus_ids: Sequence[str]
) -> GroundingOutcome:
    """The outcome for one query: `corpus_ids[i]` is the corpus id of `hits[i]`'s document."""
    kind = regions[0].kind if regions else "all"
    for rank, (hit, corpus_id) in enumerate(zip(hits, corpus_ids, strict=True), start=1):
        matching = [r for r in regions if r.holds(hit, corpus_id)]
        if not matching:
            continue
        highlights = hit.evidence.highlights if hit.evidence is not None else ()
        box_rank: int | None = None
        best = 0.0
        for k, h in enumerate(highlights, start=1):
            overlap = max(iou(h.box, r.box) for r in matching)
            if k <= TOP_BOXES:
                best = max(best, overlap)
            if overlap >= IOU_THRESHOLD and box_rank is None:
                box_rank = k
        return GroundingOutcome(query_id, matching[0].kind, rank, box_rank, best, len(highlights))
    return GroundingOutcome(query_id, kind, None, None, 0.0, 0)


@dataclass(frozen=True)
class GroundingRow:
    kind: str  # pdf | scanned | slides | video | all
    reranked: bool
    queries: int
    correct_hits: int  # queries with a correct hit in the top GROUNDING_DEPTH
    correct_first: int  # … at rank 1
    grounded_at_1: float  # share of correct hits whose first box is the answer line
    grounded_at_3: float  # share of correct hits with the answer line among their top 3 boxes
    mean_iou: float  # mean best IoU (top 3) over correct hits


def summarise(outcomes: Iterable[GroundingOutcome], *, reranked: bool) -> list[GroundingRow]:
    listed = list(outcomes)
    kinds = list(dict.fromkeys(o.kind for o in listed))
    rows = []
    for kind in [*kinds, "all"]:
        part = [o for o in listed if kind in ("all", o.kind)]
        correct = [o for o in part if o.correct_rank is not None]
        n = len(correct) or 1
        rows.append(
            GroundingRow(
                kind=kind,
                reranked=reranked,
                queries=len(part),
                correct_hits=len(correct),
                correct_first=sum(1 for o in correct if o.correct_rank == 1),
                grounded_at_1=sum(1 for o in correct if o.box_rank == 1) / n,
                grounded_at_3=sum(1 for o in correct if o.grounded) / n,
                mean_iou=sum(o.best_iou for o in correct) / n,
            )
        )
    return rows


def markdown(rows: Sequence[GroundingRow]) -> str:
    lines = [
        "| media | rerank | queries | correct hit in top 10 | at rank 1 | answer line = box 1 "
        "| answer line in top 3 boxes | mean IoU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.kind} | {'yes' if r.reranked else 'no'} | {r.queries} | {r.correct_hits} | "
            f"{r.correct_first} | {r.grounded_at_1:.1%} | {r.grounded_at_3:.1%} | {r.mean_iou:.2f} |"
        )
    return "\n".join(lines)
