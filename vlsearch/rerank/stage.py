"""The rerank stage of search: retrieval candidates in, reranked hits out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from vlsearch.config import DEFAULT_RERANK_INSTRUCTION
from vlsearch.models.base import Reranker, RerankInput
from vlsearch.models.qwen3vl.inputs import VideoClip, parse_side
from vlsearch.rerank.cache import ScoreCache
from vlsearch.types import Candidate, Hit, Item, Modality, Query

# A video source that is readable here, for a frame row (None when it is not: deleted, moved, remote).
VideoSource = Callable[[Item], str | None]

log = logging.getLogger(__name__)


class RerankStage:
    """Rescore the top_n candidates with a reranker; the rest follow in retrieval order.

    Text rows are scored on their chunk text, image rows on the stored image plus its text. A frame
    row (a keyframe of an ingested video) is scored as the stretch of the source video it stands for:
    from the previous to the next keyframe around it (`frame_window` on each side), handed to the
    reranker as the video file with video_start / video_end, so qwen-vl-utils samples it at the
    call's fps with the real timestamps exactly as the official reranker samples a video file.
    When the source video cannot be read here (`video_source` is None or answers None), the
    neighbouring stored keyframes go as a frame list instead. benchmarks/frame_rows.py compares both.
    """

    def __init__(
        self,
        *,
        reranker: Reranker,
        media_root: str | Path,
        top_n: int = 50,
        cache: ScoreCache | None = None,
        instruction: str = DEFAULT_RERANK_INSTRUCTION,
        frame_window: int = 1,
        max_frame_gap_s: float = 10.0,
        video_source: VideoSource | None = None,
    ) -> None:
        self.reranker = reranker
        self.media_root = Path(media_root)
        self.top_n = top_n
        self.cache = cache
        self.instruction = instruction
        self.frame_window = frame_window
        self.max_frame_gap_s = max_frame_gap_s
        self.video_source = video_source

    # -- inputs ---------------------------------------------------------------------------------
    def _media_path(self, rel: str) -> str | None:
        if not rel:
            return None
        root = self.media_root.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            log.warning("media path %r escapes the data dir; ignored", rel)
            return None
        if not path.is_file():
            log.warning("media file %s is missing; reranking on text only", path)
            return None
        return str(path)

    def query_input(self, query: Query) -> RerankInput:
        return RerankInput(
            text=query.text or None,
            image=list(query.image_paths) or None,
            video=query.video_path or None,
        )

    def _window(self, cand: Candidate, pool: Sequence[Candidate]) -> list[Item]:
        """The frame row and its neighbouring keyframes of the same video, in time order."""
        item = cand.item
        t0 = item.locator.t_start
        same = [
            c.item
            for c in pool
            if c.item.modality is Modality.FRAME
            and c.item.doc_id == item.doc_id
            and c.item.locator.t_start is not None
        ]
        if t0 is None or not same:
            return [item]
        by_time = sorted({i.id: i for i in [*same, item]}.values(), key=lambda i: i.locator.t_start or 0.0)
        pos = next(k for k, i in enumerate(by_time) if i.id == item.id)
        window = by_time[max(0, pos - self.frame_window) : pos + self.frame_window + 1]
        limit = self.max_frame_gap_s * self.frame_window
        return [i for i in window if abs((i.locator.t_start or 0.0) - t0) <= limit]

    def _clip(self, item: Item, window: Sequence[Item]) -> VideoClip | None:
        if self.video_source is None or item.locator.t_start is None:
            return None
        path = self.video_source(item)
        if not path:
            return None
        start = min(i.locator.t_start or 0.0 for i in window)
        last = max(window, key=lambda i: i.locator.t_start or 0.0)
        end = last.locator.t_end
        if end is None:
            end = (last.locator.t_start or 0.0) + self.max_frame_gap_s
        # qwen-vl-utils needs at least two frames in the stretch
        return VideoClip(path=path, start=start, end=max(end, start + 1.0))

    def document_input(self, cand: Candidate, pool: Sequence[Candidate] = ()) -> RerankInput:
        item = cand.item
        text = item.text or None
        if item.modality is Modality.IMAGE:
            path = self._media_path(item.media)
            return RerankInput(text=text, image=path)
        if item.modality is Modality.FRAME:
            window = self._window(cand, pool)
            clip = self._clip(item, window)
            if clip is not None:
                return RerankInput(text=text, video=clip)
            frames = [p for p in (self._media_path(i.media) for i in window) if p]
            if len(frames) >= 2:
                return RerankInput(text=text, video=frames)
            return RerankInput(text=text, image=frames[0] if frames else None)
        return RerankInput(text=text)

    # -- scoring --------------------------------------------------------------------------------
    def _scores(self, query: RerankInput, docs: Sequence[RerankInput], instruction: str) -> list[float]:
        if self.cache is None:
            return self.reranker.score(query, docs, instruction=instruction)
        cache = self.cache
        q_hash = cache.content_hash(parse_side(query))
        keys = [
            cache.key(self.reranker.model_id, instruction, q_hash, cache.content_hash(parse_side(d)))
            for d in docs
        ]
        scores: list[float | None] = [cache.get(k) for k in keys]
        missing = [i for i, s in enumerate(scores) if s is None]
        if missing:
            fresh = self.reranker.score(query, [docs[i] for i in missing], instruction=instruction)
            for i, s in zip(missing, fresh, strict=True):
                scores[i] = s
                cache.put(keys[i], s)
        return [float(s) for s in scores if s is not None]

    def apply(self, query: Query, candidates: Sequence[Candidate], *, top_k: int | None = None) -> list[Hit]:
        """Hits ordered by rerank score (top_n), then the rest in retrieval order; cut to top_k."""
        head = list(candidates[: self.top_n])
        rest = list(candidates[self.top_n :])
        q_input = self.query_input(query)
        ordered: list[tuple[Candidate, float | None]]
        if not head or parse_side(q_input).empty:
            ordered = [(c, None) for c in candidates]
        else:
            instruction = query.instruction or self.instruction
            docs = [self.document_input(c, candidates) for c in head]
            scores = self._scores(q_input, docs, instruction)
            # sorted() is stable: equal scores keep retrieval order.
            ranked = sorted(zip(head, scores, strict=True), key=lambda cs: -cs[1])
            ordered = [(c, s) for c, s in ranked] + [(c, None) for c in rest]
        hits = [Hit(candidate=c, rank=i + 1, rerank_score=s) for i, (c, s) in enumerate(ordered)]
        return hits if top_k is None else hits[:top_k]
