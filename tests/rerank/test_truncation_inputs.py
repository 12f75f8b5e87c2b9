"""Truncation keeps visual tokens and the tail; images and videos get the official element dicts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vlsearch.errors import InputRejectedError
from vlsearch.models.qwen3vl.inputs import VideoClip, VisionLimits, parse_side
from vlsearch.models.qwen3vl.truncation import truncate_ids
from vlsearch.models.qwen3vl.vision import check_video, fetch_image, fetch_video, image_element, video_element
from vlsearch.rerank.qwen3vl import Qwen3VLReranker

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


def test_element_dicts_are_the_official_ones(media: dict[str, Path]) -> None:
    lim = VisionLimits(max_frames=4)
    img = image_element(str(media["img_a"]), lim)
    assert img == {"image": "file://" + str(media["img_a"]), "min_pixels": 4096, "max_pixels": 1_843_200}
    # a video file: the call's fps / max_frames (else the constructor's), no pixel budget
    assert video_element(str(media["video"]), lim, fps=0.5) == {
        "video": "file://" + str(media["video"]),
        "fps": 0.5,
        "max_frames": 4,
    }
    assert video_element(str(media["video"]), VisionLimits(), max_frames=8)["max_frames"] == 8
    assert "total_pixels" not in video_element(str(media["video"]), VisionLimits())
    opt_in = video_element(str(media["video"]), VisionLimits(video_file_total_pixels=1 << 20))
    assert opt_in["total_pixels"] == 1 << 20
    # a frame list: thinned to the constructor's max_frames (never the call's), then total_pixels
    frames = [str(media[f"frame{i}"]) for i in range(5)]
    listed = video_element(frames, lim, max_frames=2)
    assert listed == {
        "video": ["file://" + frames[i] for i in (0, 1, 2, 4)],  # np.linspace(0, 4, 4, dtype=int)
        "total_pixels": 7_864_320,
    }
    clip = video_element(VideoClip(str(media["video"]), 1.0, 2.5), lim)
    assert (clip["video_start"], clip["video_end"], clip["fps"]) == (1.0, 2.5, 1.0)


def test_frames_come_from_qwen_vl_utils(media: dict[str, Path]) -> None:
    v = fetch_video([str(media[f"frame{i}"]) for i in range(5)], VisionLimits())
    assert v.frames.shape[0] == 6 and v.frames.dtype == torch.float32  # padded to even
    assert list(v.metadata["frames_indices"]) == [0, 1, 2, 3, 4, 5] and v.metadata["fps"] == 2.0
    h, w = v.frames.shape[-2:]
    assert h % 32 == 0 and w % 32 == 0 and h * w >= 128 * 32 * 32  # qwen-vl-utils' video minimum
    f = fetch_video(str(media["video"]), VisionLimits(), fps=4.0, max_frames=7)
    assert f.frames.shape[0] == 6 and f.metadata["fps"] == 8.0  # 12 wanted, capped at 7, kept even
    img = fetch_image(str(media["img_b"]), VisionLimits())
    assert img.size == (64, 192) and img.mode == "RGB"


def test_frame_list_is_one_video_and_lists_of_videos_are_several(media: dict[str, Path]) -> None:
    frames = [str(media[f"frame{i}"]) for i in range(5)]
    assert len(parse_side({"video": frames}).videos) == 1
    two = parse_side({"video": [str(media["video"]), str(media["video"])], "image": str(media["img_a"])})
    assert len(two.videos) == 2 and len(two.images) == 1 and two.texts == ()
    nested = parse_side({"video": [frames[:2], frames[2:]]})
    assert nested.videos == (tuple(frames[:2]), tuple(frames[2:]))


def test_bad_video_inputs_are_rejected_clearly(tmp_path: Path, media: dict[str, Path]) -> None:
    with pytest.raises(InputRejectedError, match="not found"):
        check_video(str(tmp_path / "nope.mp4"), VisionLimits())
    with pytest.raises(InputRejectedError, match="frame not found"):
        check_video([str(tmp_path / "gone.png")], VisionLimits())
    with pytest.raises(InputRejectedError, match="max_frames must be >= 2"):
        video_element(str(media["video"]), VisionLimits(), max_frames=1)
    with pytest.raises(InputRejectedError, match="download it first"):
        video_element("https://example.com/v.mp4", VisionLimits())
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(InputRejectedError):
        check_video(str(broken), VisionLimits())
