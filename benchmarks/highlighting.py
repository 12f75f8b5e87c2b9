"""Evidence highlighting: how well each way of matching lines finds the answer line, and what
highlighting costs a search. Everything runs in one process on one index, baselines included.

    python benchmarks/highlighting.py [--embedder ensemble] [--rounds 20]
                                      [--out benchmarks/results/highlighting.json]

The grounding set of vlsearch.eval.grounding_set (born-digital PDFs, scanned pages, slide decks of
pictures, training videos; every answer line's box known when written) is ingested by the real
pipeline. Each query is searched as a user does (top 10, rerank off); on the first hit on the
answer's page / slide / moment, the hit's stored lines are ranked by:

  reading-order   the hit's first lines, no matching at all (the floor)
  lexical         query terms in the line, idf over the hit's lines (the analyzer's tokens)
  lexical+heads   the same, titles and headings (lines much taller than the body) weighted 0.6
                  (the shipped Highlighter)
  embedding       cosine of the query vector with each line embedded as a passage at query time
  hybrid          lexical+heads plus half the embedding cosine, min-max scaled within the hit

and scored as `vlsearch eval` does: the answer line among the top 1 / top 3 boxes (IoU >= 0.5).

What the positions cost ingest: a generated 30-page text PDF extracted with page previews and line
boxes (as shipped) and with both off (max_page_previews=0, no lines: the baseline), interleaved.

Cost per search at top 10, on every query of the set, interleaved with its baseline:
  search (highlighting off)        SearchService.search without a highlighter (the baseline)
  search (highlighting on)         the same service with the Highlighter, as served
  highlighting alone               SearchService.highlight on the top 10 hits
  per-line embedding alone         embedding every line of the top 10 hits (what `embedding` needs)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vlsearch.config import Settings
from vlsearch.eval.grounding import TOP_BOXES, AnswerRegion, iou
from vlsearch.eval.grounding_set import write_grounding_set
from vlsearch.eval.media import load_media_set
from vlsearch.evidence.boxes import BOX_SCALE
from vlsearch.evidence.highlight import Highlighter
from vlsearch.runtime import Runtime
from vlsearch.types import EmbedInput, Hit, Item, Query, Role

MATCHERS = ("reading-order", "lexical", "lexical+heads", "embedding", "hybrid")
TIMINGS = ("search_off", "search_on", "highlight", "embed_lines")


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="ensemble")
    ap.add_argument("--rounds", type=int, default=20, help="timed searches per query (0: no timing)")
    ap.add_argument(
        "--embed-queries", type=int, default=10, help="queries whose top-10 lines are embedded and timed"
    )
    ap.add_argument("--out", default="benchmarks/results/highlighting.json")
    return ap.parse_args()


def _lines(item: Item) -> list[tuple[str, tuple[float, float, float, float]]]:
    return [
        (item.text[r[0] : r[1]], (r[2] / BOX_SCALE, r[3] / BOX_SCALE, r[4] / BOX_SCALE, r[5] / BOX_SCALE))
        for r in item.lines.rows()
    ]


def _ranked_boxes(
    matcher: str,
    item: Item,
    query: str,
    lexical: Highlighter,
    heads: Highlighter,
    cosines: Callable[[str, Sequence[str]], np.ndarray],
) -> list[tuple[float, float, float, float]]:
    lines = _lines(item)
    if matcher == "reading-order":
        return [box for _, box in lines]
    if matcher in ("lexical", "lexical+heads"):
        hl = lexical if matcher == "lexical" else heads
        return [h.box for h in hl.evidence(hl.prepare(query), item).highlights]
    cos = cosines(query, [text for text, _ in lines])
    if matcher == "embedding":
        order = np.argsort(-cos, kind="stable")
        return [lines[k][1] for k in order]
    # hybrid: the shipped lexical score plus half the min-max scaled cosine
    lex = {h.box: h.score for h in heads.evidence(heads.prepare(query), item).highlights}
    span = float(cos.max() - cos.min()) or 1.0
    scored = [
        (lex.get(box, 0.0) + 0.5 * (float(cos[k]) - float(cos.min())) / span, -k, box)
        for k, (_, box) in enumerate(lines)
    ]
    return [box for *_, box in sorted(scored, reverse=True)]


def _box_rank(boxes: Sequence[Sequence[float]], regions: Sequence[AnswerRegion]) -> int | None:
    for k, box in enumerate(boxes, start=1):
        if max(iou(box, r.box) for r in regions) >= 0.5:
            return k
    return None


def _ingest_cost(work: Path, rounds: int = 5) -> dict[str, float]:
    from unittest import mock

    import vlsearch.ingest.extractors.pdf as pdf_extractor
    from vlsearch.demo.writers import Doc, Heading, PageBreak, Para, write_pdf
    from vlsearch.ingest.extractors.pdf import extract_pdf
    from vlsearch.ingest.limits import Limits

    blocks: list[Any] = []
    for page in range(30):
        blocks += [Heading(f"Section {page + 1}: maintenance step {page + 1}")]
        blocks += [
            Para(f"Paragraph {k} of step {page + 1}: " + "check the module and tighten the bolts. " * 6)
            for k in range(6)
        ]
        blocks.append(PageBreak())
    path = write_pdf(work / "thirty_pages.pdf", Doc("Thirty pages", tuple(blocks[:-1])))
    on: list[float] = []
    off: list[float] = []
    preview_bytes = 0
    pages = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        extraction = extract_pdf(path, limits=Limits())
        t1 = time.perf_counter()
        with mock.patch.object(pdf_extractor, "page_lines", lambda *a, **k: ()):
            extract_pdf(path, limits=Limits(max_page_previews=0))
        t2 = time.perf_counter()
        on.append(t1 - t0)
        off.append(t2 - t1)
        pages = len(extraction.pages)
        preview_bytes = sum(len(p.image) for p in extraction.pages)
    n = max(1, pages)
    return {
        "pages": pages,
        "extract_ms_per_page_with_positions": round(statistics.median(on) / n * 1000, 2),
        "extract_ms_per_page_baseline": round(statistics.median(off) / n * 1000, 2),
        "preview_kb_per_page": round(preview_bytes / n / 1024, 1),
    }


def main() -> None:
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="vlsearch-highlighting-"))
    set_dir = write_grounding_set(work / "set")
    mset = load_media_set(set_dir / "corpus.jsonl", set_dir / "queries.jsonl", set_dir / "qrels.tsv")
    settings = Settings(
        data_dir=work / "data", allowed_roots=[set_dir], embedder=args.embedder, profile="cpu"
    )
    rt = Runtime.from_settings(settings)
    rt.start()
    try:
        t0 = time.perf_counter()
        report = rt.pipeline.ingest_paths([set_dir / d.path for d in mset.corpus], groups=("bench",))
        ingest_s = time.perf_counter() - t0
        to_set = {r.doc_id: d.id for d, r in zip(mset.corpus, report.results, strict=True) if r.doc_id}
        lexical = Highlighter(heading_weight=1.0)
        heads = Highlighter()
        rt.search.warm_up()

        def cosines(query: str, texts: Sequence[str]) -> np.ndarray:
            q = rt.embedder.embed([EmbedInput(text=query)], role=Role.QUERY)[0]
            v = rt.embedder.embed([EmbedInput(text=t) for t in texts], role=Role.DOCUMENT)
            q = q / (np.linalg.norm(q) or 1.0)
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            return np.asarray(v @ q)

        plain = rt.search.with_highlighter(None)
        per_query: list[dict[str, Any]] = []
        results: dict[str, dict[str, list[int | None]]] = {m: {} for m in MATCHERS}
        timing: dict[str, list[float]] = {k: [] for k in TIMINGS}
        for n, q in enumerate(mset.queries):
            query = Query(text=q.text, top_k=10, rerank=False, per_doc_limit=0)
            hits = list(plain.search(query).hits)
            correct: Hit | None = None
            rank = None
            for k, hit in enumerate(hits, start=1):
                if any(r.holds(hit, to_set.get(hit.item.doc_id, "")) for r in q.regions):
                    correct, rank = hit, k
                    break
            kind = q.regions[0].kind
            row: dict[str, Any] = {"query": q.id, "kind": kind, "text": q.text, "correct_rank": rank}
            if correct is not None and correct.item.lines:
                for matcher in MATCHERS:
                    boxes = _ranked_boxes(matcher, correct.item, q.text, lexical, heads, cosines)
                    found = _box_rank(boxes, q.regions)
                    results[matcher].setdefault(kind, []).append(found)
                    row[matcher] = found
            per_query.append(row)
            # cost, interleaved: baseline search, search with highlighting, the parts alone
            for _ in range(args.rounds):
                s0 = time.perf_counter()
                plain.search(query)
                s1 = time.perf_counter()
                rt.search.search(query)
                s2 = time.perf_counter()
                rt.search.highlight(q.text, hits)
                s3 = time.perf_counter()
                timing["search_off"].append((s1 - s0) * 1000)
                timing["search_on"].append((s2 - s1) * 1000)
                timing["highlight"].append((s3 - s2) * 1000)
            texts = [text for h in hits for text, _ in _lines(h.item)]
            if texts and args.rounds and n < args.embed_queries:
                e0 = time.perf_counter()
                cosines(q.text, texts)
                timing["embed_lines"].append((time.perf_counter() - e0) * 1000)

        table: dict[str, dict[str, dict[str, float]]] = {}
        for matcher in MATCHERS:
            table[matcher] = {}
            kinds = results[matcher]
            for kind in [*kinds, "all"]:
                found = kinds.get(kind) if kind != "all" else [f for v in kinds.values() for f in v]
                found = found or []
                n = len(found) or 1
                table[matcher][kind] = {
                    "judged": len(found),
                    "box_at_1": sum(1 for f in found if f == 1) / n,
                    "box_at_3": sum(1 for f in found if f is not None and f <= TOP_BOXES) / n,
                }

        def stats(xs: list[float]) -> dict[str, float]:
            xs = sorted(xs)
            if not xs:
                return {"n": 0}
            return {
                "n": len(xs),
                "mean_ms": round(statistics.fmean(xs), 3),
                "p50_ms": round(xs[len(xs) // 2], 3),
                "p95_ms": round(xs[int(len(xs) * 0.95)], 3),
            }

        out = {
            "command": "python benchmarks/highlighting.py " + " ".join(sys.argv[1:]),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "load_average_before_after": None,
            "embedder": rt.embedder.model_id,
            "ingest_s": round(ingest_s, 1),
            "queries": len(mset.queries),
            "grounding": table,
            "ingest_cost": _ingest_cost(work),
            "cost_top10": {k: stats(v) for k, v in timing.items()},
            "per_query": per_query,
        }
        return_out(out, args.out)
    finally:
        rt.close()


LOAD_START = os.getloadavg()


def return_out(out: dict[str, Any], path: str) -> None:
    out["load_average_before_after"] = [list(LOAD_START), list(os.getloadavg())]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: out[k] for k in ("grounding", "cost_top10", "load_average_before_after")}, indent=1))


if __name__ == "__main__":
    main()
