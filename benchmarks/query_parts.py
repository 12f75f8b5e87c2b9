"""Queries of several parts (typed text + photo + video) on the demo corpus, CPU profile, no reranker:
the whole query joined into one string (the code path before) against the query retrieved whole and
medium by medium (Searcher._retrieve_parts, now), in the same process on the same index.

    python benchmarks/query_parts.py [--embedder ensemble] [--rounds 15]
                                     [--out benchmarks/results/query_parts.json]

The corpus and the query media are what `vlsearch demo` writes (vlsearch.demo.corpus.build_demo_files,
vlsearch.demo.queries.write_demo_queries). Each query's media are read (OCR, keyframes) once; "joined"
retrieves with `typed text + every OCR text` as one text (exactly what retrieve() did before for an
embedder that sees media as text), "parts" with the same media texts as parts. Reported per query:
the expected document's rank among documents (video documents left out, as the article lists
documents), the top 3, and the retrieval time (median of --rounds, interleaved). The two article
scenarios are also timed end to end through SearchService.search (OCR included).
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vlsearch.config import Settings
from vlsearch.demo.corpus import build_demo_files
from vlsearch.demo.queries import SCENARIOS, write_demo_queries
from vlsearch.runtime import Runtime
from vlsearch.types import Candidate, Query

MANUAL = "node07_hardware_diagnostic_manual.pdf"
SOP = "server_racking_sop"


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="ensemble")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--out", default="benchmarks/results/query_parts.json")
    return ap.parse_args()


def _docs(cands: list[Candidate]) -> list[str]:
    """Document names in rank order, one per document, video documents left out."""
    seen: list[str] = []
    for c in cands:
        if c.item.doc_type != "video" and c.item.name not in seen:
            seen.append(c.item.name)
    return seen


def _rank(names: list[str], expected: str) -> int | None:
    return next((i + 1 for i, n in enumerate(names) if n.startswith(expected)), None)


def main() -> None:
    args = _parse()
    work = Path(tempfile.mkdtemp(prefix="query-parts-"))
    root = work / "root"
    settings = Settings(data_dir=work / "data", allowed_roots=[root], profile="cpu", embedder=args.embedder)  # type: ignore[arg-type]
    files = build_demo_files(root / "corpus")
    media_files = write_demo_queries(root / "queries")
    rt = Runtime.from_settings(settings)
    rt.start()
    t0 = time.perf_counter()
    rt.pipeline.ingest_paths(files, groups=("public",))
    ingest_s = time.perf_counter() - t0
    node07, racking = SCENARIOS
    photo41, video41 = str(media_files[node07.photo]), str(media_files[node07.video])
    photo42, video42 = str(media_files[racking.photo]), str(media_files[racking.video])
    cases: list[dict[str, Any]] = [
        {"id": "4.1 zh text + photo", "text": node07.text, "images": [photo41], "expect": MANUAL},
        {"id": "4.1 zh text + video", "text": node07.text, "video": video41, "expect": MANUAL},
        {
            "id": "4.1 zh text + photo + video",
            "text": node07.text,
            "images": [photo41],
            "video": video41,
            "expect": MANUAL,
        },
        {
            "id": "4.1 en text + photo",
            "text": "Node-07 error log analysis",
            "images": [photo41],
            "expect": MANUAL,
        },
        {"id": "vague en text + photo", "text": "what does this show", "images": [photo41], "expect": MANUAL},
        {"id": "vague zh text + photo", "text": "这是什么", "images": [photo41], "expect": MANUAL},
        {"id": "4.2 zh text + video", "text": "服务器上架流程", "video": video42, "expect": SOP},
        {"id": "4.2 en text + photo", "text": "which step is this", "images": [photo42], "expect": SOP},
    ]
    searcher = rt.search.searcher
    reader = rt.search.query_media
    rows = []
    for case in cases:
        media = reader.read(image_paths=case.get("images", []), video_path=case.get("video"))
        query = Query(text=case["text"], rerank=False, per_doc_limit=0)
        joined = Query(text="\n".join([case["text"], *media.texts]), rerank=False, per_doc_limit=0)
        runs = {
            "joined": lambda q=joined: searcher.retrieve(q),
            "parts": lambda q=query, m=media: searcher.retrieve(q, media_texts=m.part_texts),
        }
        ms: dict[str, list[float]] = {k: [] for k in runs}
        out: dict[str, list[Candidate]] = {}
        for _ in range(args.rounds):
            for name, fn in runs.items():  # interleaved, so load changes hit both alike
                s = time.perf_counter()
                out[name] = fn()
                ms[name].append((time.perf_counter() - s) * 1000)
        row: dict[str, Any] = {
            "query": case["id"],
            "text": case["text"],
            "retrieved_with": searcher.query_parts(query, media.part_texts),
        }
        for name in runs:
            names = _docs(out[name])
            row[name] = {
                "expected_rank": _rank(names, case["expect"]),
                "top3": names[:3],
                "retrieve_ms_p50": round(statistics.median(ms[name]), 2),
            }
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False))
    scenarios = []
    for label, query in (
        ("4.1: rack photo + " + node07.text, Query(text=node07.text, image_paths=(photo41,), rerank=False)),
        ("4.2: racking recording (video)", Query(video_path=video42, rerank=False)),
    ):
        rt.search.search(query)  # warm
        times, result = [], None
        for _ in range(max(3, args.rounds // 3)):
            s = time.perf_counter()
            result = rt.search.search(query)
            times.append((time.perf_counter() - s) * 1000)
        assert result is not None
        scenarios.append(
            {
                "scenario": label,
                "top3": [
                    {
                        "document": h.item.name,
                        "modality": h.item.modality.value,
                        "score": round(h.score, 3),
                        "text": h.item.text[:80],
                    }
                    for h in result.hits[:3]
                ],
                "first_document": _docs([h.candidate for h in result.hits])[0],
                "search_ms_p50": round(statistics.median(times), 1),
                "stages_ms_last": {k: round(v, 1) for k, v in result.timings_ms.items()},
            }
        )
        print(json.dumps(scenarios[-1], ensure_ascii=False))
    rt.close()
    report = {
        "benchmark": "query_parts",
        "embedder": args.embedder,
        "rounds": args.rounds,
        "ingest_s": round(ingest_s, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "queries": rows,
        "scenarios": scenarios,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
