"""Frame rows in the rerank stage: neighbouring keyframes as a frame list vs the source video stretch.

On the demo's racking video (vlsearch.demo.media.racking_video: four static 2.5 s steps at 4 fps),
keyframes are sampled as ingest samples them (KeyframeSampler defaults) and stored as ingest stores
them (JPEG). Each keyframe becomes a frame row, and the tiny random reranker scores, per row:

  A  the stored neighbouring keyframes as a frame list (the stage's fallback),
  B  the source video from the previous to the next keyframe (video_start / video_end, the call's fps),
  T  that same stretch cut losslessly into its own mp4 and scored as the official reranker scores a
     video file: what a user who handed the official code this moment would get.

It writes benchmarks/results/frame_rows_racking.json: scores, |A - T|, |B - T|, sequence length and
input-preparation time. A random tiny model says nothing about relevance; it only shows how far
each input is from T as a function of the pixels and the prompt (timestamps) the model is given.

  python benchmarks/frame_rows.py [--out benchmarks/results/frame_rows_racking.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vlsearch.demo.media import racking_video  # noqa: E402
from vlsearch.media.keyframes import KeyframeSampler  # noqa: E402
from vlsearch.models.qwen3vl.inputs import VideoClip, parse_side  # noqa: E402
from vlsearch.rerank import Qwen3VLReranker, RerankStage  # noqa: E402
from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl  # noqa: E402
from vlsearch.types import Candidate, Item, Locator, Modality  # noqa: E402

QUERY = {"text": "Slide the server into the rack"}


def cut_lossless(source: Path, start: float, end: float, out: Path) -> Path:
    """The frames qwen-vl-utils takes for [start, end] of `source`, re-encoded losslessly (H.264 qp 0)."""
    import av

    with av.open(str(source)) as src:
        stream = src.streams.video[0]
        rate = Fraction(stream.average_rate)
        frames = [f.to_ndarray(format="yuv420p") for f in src.decode(stream)]
        width, height = stream.codec_context.width, stream.codec_context.height
    fps = float(rate)
    first = math.ceil(start * fps)
    last = min(math.floor(min(end, len(frames) / fps) * fps), len(frames) - 1)
    with av.open(str(out), mode="w") as dst:
        enc = dst.add_stream("libx264", rate=rate)
        enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
        enc.options = {"qp": "0", "preset": "veryfast"}  # lossless: the same pixels decode back
        for planes in frames[first : last + 1]:
            for packet in enc.encode(av.VideoFrame.from_ndarray(planes, format="yuv420p")):
                dst.mux(packet)
        for packet in enc.encode():
            dst.mux(packet)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "frame_rows_racking.json"))
    parser.add_argument("--fps", type=float, default=1.0, help="sampling rate for video stretches")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model_dir = build_tiny_qwen3vl(tmp / "model", seed=0)
        video = racking_video(tmp / "server_racking_procedure.mp4")
        result = KeyframeSampler().sample(video, max_seconds=600)
        media = tmp / "data" / "media" / "doc-vid"
        media.mkdir(parents=True)
        items = []
        for i, kf in enumerate(result.keyframes):
            (media / f"kf{i}.jpg").write_bytes(kf.data)
            items.append(
                Item(
                    id=f"f{i}",
                    doc_id="doc-vid",
                    modality=Modality.FRAME,
                    text="",
                    locator=Locator(t_start=kf.t_start, t_end=kf.t_end, index=i),
                    source=str(video),
                    name=video.name,
                    doc_type="video",
                    groups=(),
                    media=f"media/doc-vid/kf{i}.jpg",
                )
            )
        pool = [Candidate(item=it, score=1.0) for it in items]
        reranker = Qwen3VLReranker(model_name_or_path=str(model_dir), torch_dtype=torch.float32, device="cpu")
        frames_stage = RerankStage(reranker=reranker, media_root=tmp / "data")
        video_stage = RerankStage(
            reranker=reranker, media_root=tmp / "data", video_source=lambda _: str(video)
        )
        query = parse_side(QUERY)
        rows: list[dict[str, Any]] = []
        for cand in pool:
            a = frames_stage.document_input(cand, pool)
            b = video_stage.document_input(cand, pool)
            assert isinstance(b.video, VideoClip)
            clip = cut_lossless(video, b.video.start, b.video.end, tmp / f"{cand.item.id}.mp4")
            t = {"video": str(clip)}
            row: dict[str, Any] = {
                "row": cand.item.id,
                "t_start": cand.item.locator.t_start,
                "t_end": cand.item.locator.t_end,
                "stretch": [b.video.start, b.video.end],
                "keyframes_in_list": len(a.video) if isinstance(a.video, list) else 1,
            }
            for name, doc in (("A_frames", a), ("B_source", b), ("T_clip", t)):
                started = time.perf_counter()
                encoded = reranker.encode_pairs(query, [parse_side(doc)], fps=args.fps)
                prep = time.perf_counter() - started
                row[name] = {
                    "score": reranker.score_encoded(encoded)[0],
                    "tokens": len(encoded[0]),
                    "prep_ms": round(prep * 1000, 1),
                }
            row["abs_A_minus_T"] = abs(row["A_frames"]["score"] - row["T_clip"]["score"])
            row["abs_B_minus_T"] = abs(row["B_source"]["score"] - row["T_clip"]["score"])
            rows.append(row)
    out = {
        "benchmark": "frame_rows",
        "video": "vlsearch.demo.media.racking_video (10 s, 4 fps, 640x360, 4 static steps)",
        "keyframes": [[r["t_start"], r["t_end"]] for r in rows],
        "query": QUERY,
        "fps": args.fps,
        "model": "tiny random Qwen3-VL (seed 0), float32, CPU",
        "caveat": "random weights: scores carry no relevance; differences only measure input distance",
        "rows": rows,
        "mean_abs_A_minus_T": sum(r["abs_A_minus_T"] for r in rows) / len(rows),
        "mean_abs_B_minus_T": sum(r["abs_B_minus_T"] for r in rows) / len(rows),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print("| row | span | A frames: score/tokens/ms | B source: score/tokens/ms | T clip | |A-T| | |B-T| |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        a, b, t = r["A_frames"], r["B_source"], r["T_clip"]
        print(
            f"| {r['row']} | {r['stretch'][0]:.2f}-{r['stretch'][1]:.2f} s | {a['score']:.4f}/{a['tokens']}/"
            f"{a['prep_ms']} | {b['score']:.4f}/{b['tokens']}/{b['prep_ms']} | {t['score']:.4f}/"
            f"{t['tokens']} | {r['abs_A_minus_T']:.4f} | {r['abs_B_minus_T']:.4f} |"
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
