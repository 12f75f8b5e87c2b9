"""Cases for parity with the official recipe: real media files and seed-format inputs.

Shared by tests/rerank/test_official_parity.py and benchmarks/rerank_parity.py (the table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ZH_INSTRUCTION = (
    "请作为企业IT知识库专家，根据用户查询，从技术文档中找出最匹配的操作指南、故障排查步骤或配置说明。"
)


def pattern_image(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(max(1, height // 8), max(1, width // 8), 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((width, height), Image.Resampling.NEAREST)
    if mode == "LA":
        grey = image.convert("L")
        alpha = Image.fromarray(rng.integers(0, 255, size=(height, width), dtype=np.uint8))
        return Image.merge("LA", (grey, alpha))
    return image


def write_mp4(path: Path, *, frames: int, fps: int, size: tuple[int, int] = (96, 64), seed: int = 0) -> Path:
    """A small mpeg4 clip whose frames differ (brightness ramp + a random colour band)."""
    import av

    width, height = size
    rng = np.random.default_rng(seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            arr = np.full((height, width, 3), (i * 20) % 255, dtype=np.uint8)
            arr[: height // 2] = rng.integers(0, 255, size=3, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def build_parity_media(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    for name, (w, h, seed, mode) in {
        "img_a": (100, 80, 1, "RGB"),
        "img_b": (64, 200, 2, "RGB"),
        "img_c": (40, 40, 3, "RGB"),
        "img_la": (120, 90, 4, "LA"),
    }.items():
        out[name] = str(root / f"{name}.png")
        pattern_image(w, h, seed, mode).save(out[name])
    for i in range(11):
        out[f"f{i}"] = str(root / f"frame{i:02d}.png")
        pattern_image(80, 64, 10 + i).save(out[f"f{i}"])
    out["clip3"] = str(write_mp4(root / "clip3.mp4", frames=24, fps=8, seed=1))  # 3 s
    out["clip12"] = str(write_mp4(root / "clip12.mp4", frames=48, fps=4, seed=2))  # 12 s
    return out


@dataclass(frozen=True)
class RerankCase:
    name: str
    inputs: dict[str, Any]
    ctor: dict[str, Any] = field(default_factory=dict)  # constructor options, both sides


def rerank_cases(m: dict[str, str]) -> list[RerankCase]:
    frames = [m[f"f{i}"] for i in range(11)]
    q = {"text": "How is the server slid into the rack?"}
    long_text = " ".join(f"the power supply module step {i}" for i in range(60))
    return [
        RerankCase("text", {"query": q, "documents": [{"text": "Slide the server in until it locks."}]}),
        RerankCase(
            "text truncated (max_length 40)",
            {"query": q, "documents": [{"text": long_text}, {"image": m["img_a"], "text": long_text}]},
            {"max_length": 40},
        ),
        RerankCase(
            "image in query",
            {"query": {"text": "rack", "image": m["img_a"]}, "documents": [{"text": "a rack photo"}]},
        ),
        RerankCase(
            "image in document",
            {"query": q, "documents": [{"image": m["img_b"], "text": "figure"}, {"image": m["img_c"]}]},
        ),
        RerankCase("LA image (alpha) in document", {"query": q, "documents": [{"image": m["img_la"]}]}),
        RerankCase(
            "several images per side",
            {
                "query": {"text": "compare", "image": [m["img_a"], m["img_c"]]},
                "documents": [{"image": [m["img_b"], m["img_a"]], "text": ["two", " texts"]}],
            },
        ),
        RerankCase(
            "video file fps 0.5",
            {"query": q, "documents": [{"video": m["clip12"], "text": "clip"}], "fps": 0.5},
        ),
        RerankCase("video file fps 1", {"query": q, "documents": [{"video": m["clip12"]}], "fps": 1.0}),
        RerankCase(
            "video file fps 2, max_frames 16",
            {"query": q, "documents": [{"video": m["clip12"]}], "fps": 2.0, "max_frames": 16},
        ),
        RerankCase(
            "video file, short clip (min 4 frames)",
            {"query": q, "documents": [{"video": m["clip3"]}], "fps": 1.0},
        ),
        RerankCase("frame list, even (4)", {"query": q, "documents": [{"video": frames[:4]}], "fps": 1.0}),
        RerankCase("frame list, odd (5)", {"query": q, "documents": [{"video": frames[:5], "text": "t"}]}),
        RerankCase(
            "frame list longer than max_frames (9 > 6; call says 4)",
            {"query": q, "documents": [{"video": frames[:9]}], "max_frames": 4},
            {"max_frames": 6},
        ),
        RerankCase(
            "several videos per side",
            {
                "query": {"video": [frames[:2], frames[2:5]], "text": "two clips"},
                "documents": [{"video": [m["clip3"], m["clip12"]]}],
                "fps": 1.0,
            },
        ),
        RerankCase(
            "video query vs frame-list document",
            {"query": {"video": m["clip3"], "text": "q"}, "documents": [{"video": frames[5:8]}]},
        ),
        RerankCase(
            "Chinese instruction",
            {
                "instruction": ZH_INSTRUCTION,
                "query": {"text": "如何更换服务器电源模块", "image": m["img_a"]},
                "documents": [{"text": "电源模块更换步骤：先关机，再拔出电源。"}, {"text": "食堂菜单"}],
            },
        ),
        RerankCase(
            "mixed batch (text, image, video file, frames)",
            {
                "query": {"text": "server power supply", "image": m["img_c"]},
                "documents": [
                    {"text": "short"},
                    {"text": "a much longer document about power supplies " * 6},
                    {"image": m["img_a"], "text": "figure of a server"},
                    {"video": m["clip3"], "text": "clip"},
                    {"video": frames[:3]},
                    {},
                ],
            },
        ),
    ]


@dataclass(frozen=True)
class EmbedCase:
    name: str
    item: dict[str, Any]  # text / image (list) / video (frame list), official embedder keys
    query: bool = False
    ctor: dict[str, Any] = field(default_factory=dict)


def embed_cases(m: dict[str, str]) -> list[EmbedCase]:
    frames = [m[f"f{i}"] for i in range(11)]
    return [
        EmbedCase("text (document)", {"text": "power supply replacement"}),
        EmbedCase("text (query instruction)", {"text": "how do I replace the fan"}, query=True),
        EmbedCase("image + text", {"text": "figure", "image": [m["img_a"]]}),
        EmbedCase("LA image", {"image": [m["img_la"]]}),
        EmbedCase("frame list, even (4)", {"video": frames[:4]}),
        EmbedCase(
            "frame list, odd (3) + image + text", {"video": frames[:3], "image": [m["img_b"]], "text": "x"}
        ),
        EmbedCase("frame list longer than max_frames (9 > 6)", {"video": frames[:9]}, ctor={"max_frames": 6}),
    ]
