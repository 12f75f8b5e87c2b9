"""Session fixtures for the rerank area: a tiny random Qwen3-VL model folder and real media files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vlsearch.rerank import Qwen3VLReranker
from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen3vl(tmp_path_factory.mktemp("tiny-qwen3vl"), seed=0)


def _pattern(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(max(1, height // 8), max(1, width // 8), 3), dtype=np.uint8)
    return Image.fromarray(base).resize((width, height), Image.Resampling.NEAREST)


def write_mp4(path: Path, *, frames: int, fps: int, size: tuple[int, int] = (96, 64), seed: int = 0) -> Path:
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


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("rerank-media")
    out: dict[str, Path] = {}
    for name, (w, h, seed) in {
        "img_a": (100, 80, 1),
        "img_b": (64, 200, 2),
        "img_c": (40, 40, 3),
    }.items():
        out[name] = root / f"{name}.png"
        _pattern(w, h, seed).save(out[name])
    for i in range(5):
        out[f"frame{i}"] = root / f"frame{i}.png"
        _pattern(80, 64, 10 + i).save(out[f"frame{i}"])
    out["video"] = write_mp4(root / "clip.mp4", frames=24, fps=8)  # 3 s
    out["root"] = root
    return out


@pytest.fixture(scope="session")
def reranker(tiny_model_dir: Path) -> Qwen3VLReranker:
    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), torch_dtype=torch.float32, device="cpu")
    model.load()
    return model
