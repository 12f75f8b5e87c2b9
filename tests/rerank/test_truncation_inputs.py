"""Truncation keeps visual tokens and the tail; image/video sizing follows the official bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vlsearch.errors import InputRejectedError
from vlsearch.rerank.inputs import (
    VisionLimits,
    frame_count,
    parse_side,
    prepare_image,
    prepare_video,
    smart_resize,
)
from vlsearch.rerank.qwen3vl import Qwen3VLReranker
from vlsearch.rerank.truncation import truncate_ids

S = 1000  # a "special" id in the unit tests below


def test_truncate_keeps_specials_and_tail_cuts_text_from_the_end() -> None:
    body = [S, 1, 2, S, S, 3, 4, 5, 6, S]
    tail = [7, 8, 9, 10, 11]
    out = truncate_ids(body + tail, max_length=7, special_ids={S})
    # 4 specials + the first 3 ordinary tokens, then the untouched tail.
    assert out == [S, 1, 2, S, S, 3, S, *tail]
    assert truncate_ids(body + tail, max_length=10, special_ids={S}) == body + tail


def test_truncate_when_specials_alone_exceed_the_budget() -> None:
    out = truncate_ids([S, S, S, 1, 2, 9, 9, 9, 9, 9], max_length=2, special_ids={S})
    assert out == [S, S, S, 9, 9, 9, 9, 9]


def test_reranker_truncation_keeps_every_image_pad(reranker: Qwen3VLReranker, media: dict[str, Path]) -> None:
    small = Qwen3VLReranker(model_name_or_path=reranker.model_id, device="cpu", max_length=40)
    small.load()
    query = parse_side({"text": "short query"})
    long_text = " ".join(f"word{i}" for i in range(200))
    doc = parse_side({"image": str(media["img_a"]), "video": str(media["video"]), "text": long_text})
    full = reranker.encode_pairs(query, [doc])[0]
    cut = small.encode_pairs(query, [doc])[0]
    tok = small._processor.tokenizer
    cfg = small._model.config
    specials = set(tok.all_special_ids)
    assert len(full) > 40 + 5 and len(cut) < len(full)
    for token_id in (cfg.image_token_id, cfg.video_token_id):
        assert cut.ids.count(token_id) == full.ids.count(token_id) > 0
    assert cut.ids[-5:] == full.ids[-5:]
    assert tok.convert_ids_to_tokens(list(cut.ids[-5:])) == tok.convert_ids_to_tokens(
        tok.encode("<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)
    )
    body = cut.ids[:-5]
    assert len(body) == 40 or sum(t not in specials for t in body) == 0
    ordinary_full = [t for t in full.ids[:-5] if t not in specials]
    ordinary_cut = [t for t in body if t not in specials]
    assert ordinary_cut == ordinary_full[: len(ordinary_cut)]  # text is cut from its tail
    assert [t for t in body if t in specials] == [t for t in full.ids[:-5] if t in specials]
    scores = small.score_encoded([cut])  # features still match the kept pad tokens
    assert 0.0 <= scores[0] <= 1.0


def test_smart_resize_multiples_of_32_within_bounds() -> None:
    lim = VisionLimits()
    for h, w in [(10, 10), (100, 80), (3000, 4000), (33, 1000), (1080, 1920)]:
        rh, rw = smart_resize(h, w, factor=32, min_pixels=lim.min_pixels, max_pixels=lim.max_pixels)
        assert rh % 32 == 0 and rw % 32 == 0
        assert lim.min_pixels <= rh * rw <= lim.max_pixels
    with pytest.raises(InputRejectedError):
        smart_resize(1, 500, factor=32, min_pixels=4096, max_pixels=10**6)


def test_prepare_image_resizes_once(media: dict[str, Path]) -> None:
    img = prepare_image(str(media["img_b"]), VisionLimits())
    assert img.size == (64, 192) and img.mode == "RGB"


def test_video_file_sampling_fps_and_max_frames(media: dict[str, Path]) -> None:
    lim = VisionLimits()
    v = prepare_video(str(media["video"]), lim)  # 24 frames at 8 fps: 3 s at 1 fps -> min 4 frames
    assert v.frames.dtype == torch.uint8 and v.frames.shape[0] == 4
    assert v.indices == (0, 8, 15, 23) and v.fps == 8.0
    v = prepare_video(str(media["video"]), lim, fps=4.0, max_frames=7)
    assert v.frames.shape[0] == 6  # 12 wanted, capped at 7, kept even
    assert frame_count(1000, 25.0, fps=1.0, limits=lim, max_frames=64) == 40
    assert frame_count(10_000, 25.0, fps=1.0, limits=lim, max_frames=64) == 64


def test_total_pixel_budget_applies_to_file_videos(media: dict[str, Path]) -> None:
    # Tight budget: 4 frames -> 2 temporal groups; per-frame cap = total / 4 * 2.
    lim = VisionLimits(video_total_pixels=2 * 32 * 32 * 4, min_pixels=1024)
    for ref in (str(media["video"]), [str(media[f"frame{i}"]) for i in range(4)]):
        v = prepare_video(ref, lim)
        t, _, h, w = v.frames.shape
        assert h % 32 == 0 and w % 32 == 0
        assert (t // 2) * h * w <= lim.video_total_pixels
    unbounded = prepare_video(str(media["video"]), VisionLimits())
    assert unbounded.frames.shape[-2:] == (64, 96)


def test_frame_list_is_one_video_and_padded_even(media: dict[str, Path]) -> None:
    frames = [str(media[f"frame{i}"]) for i in range(5)]
    side = parse_side({"video": frames})
    assert len(side.videos) == 1
    v = prepare_video(side.videos[0], VisionLimits(), fps=2.0)
    assert v.frames.shape[0] == 6 and v.indices == (0, 1, 2, 3, 4, 4) and v.fps == 2.0
    two = parse_side({"video": [str(media["video"]), str(media["video"])], "image": str(media["img_a"])})
    assert len(two.videos) == 2 and len(two.images) == 1 and two.texts == ()


def test_missing_video_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputRejectedError, match="not found"):
        prepare_video(str(tmp_path / "nope.mp4"), VisionLimits())
