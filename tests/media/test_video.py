"""Video probing, keyframe sampling, limits and broken inputs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vlsearch.errors import ExtractionError, InputRejectedError, TooLargeError
from vlsearch.ingest.extractors.video import extract_video
from vlsearch.ingest.limits import Limits
from vlsearch.media import KeyframeSampler, MediaLimits, probe_video, sniff_video
from vlsearch.types import Modality


def test_probe_demo_video(demo_media: dict[str, Path]) -> None:
    info = probe_video(demo_media["video"])
    assert (info.width, info.height) == (640, 360)
    assert info.duration == pytest.approx(10.0, abs=0.05)
    assert info.fps == pytest.approx(4.0)
    assert info.frame_count == 40
    assert info.codec == "h264"
    assert not info.has_audio
    assert sniff_video(demo_media["video"].read_bytes()[:64]) == "mp4"


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_keyframes_one_per_static_scene(demo_media: dict[str, Path], backend: str) -> None:
    result = KeyframeSampler(fps=1.0, backend=backend).sample(demo_media["video"], max_seconds=600)
    assert result.backend == backend
    starts = [k.t_start for k in result.keyframes]
    # 10 regular samples and 40 analysed frames collapse to the 4 scenes, found at their cuts
    assert starts == pytest.approx([0.0, 2.5, 5.0, 7.5], abs=0.01)
    assert [k.t_end for k in result.keyframes] == pytest.approx([2.5, 5.0, 7.5, 10.0], abs=0.01)
    assert result.analysed >= 40
    assert [k.reason for k in result.keyframes] == ["start", "scene", "scene", "scene"]
    first = Image.open(io.BytesIO(result.keyframes[0].data))
    assert first.format == "JPEG" and first.size == (640, 360)


def test_every_distinct_sample_kept_then_capped_evenly(changing_video: Path) -> None:
    full = KeyframeSampler(fps=1.0, analysis_fps=1.0).sample(changing_video, max_seconds=600)
    assert len(full.keyframes) == 20  # one per second, all different
    capped = KeyframeSampler(fps=1.0, analysis_fps=1.0, max_frames=5).sample(changing_video, max_seconds=600)
    assert capped.candidates == 20
    starts = [k.t_start for k in capped.keyframes]
    assert starts == pytest.approx([0.0, 5.0, 10.0, 14.0, 19.0], abs=0.01)
    # each kept frame lasts until the next kept one
    assert [k.t_end for k in capped.keyframes[:-1]] == starts[1:]
    assert capped.keyframes[-1].t_end == pytest.approx(20.0, abs=0.01)
    # past 8 x max_frames candidates the sampler thins as it goes; the spread stays even
    thinned = KeyframeSampler(fps=1.0, analysis_fps=1.0, max_frames=2).sample(changing_video, max_seconds=600)
    assert thinned.candidates == 20
    assert [k.t_start for k in thinned.keyframes] == pytest.approx([0.0, 19.0], abs=0.01)


def test_a_new_line_of_slide_text_is_not_a_duplicate(slide_video: Path) -> None:
    # the bullet changes ~0.2% of the frame on average: a mean-difference dedupe would drop it
    result = KeyframeSampler().sample(slide_video, max_seconds=600)
    assert [k.t_start for k in result.keyframes] == pytest.approx([0.0, 3.0], abs=0.01)
    assert result.keyframes[1].reason == "interval"


def test_dedupe_threshold_controls_static_frames(demo_media: dict[str, Path]) -> None:
    # no dedupe and no scene detection: every regular sample is kept
    result = KeyframeSampler(fps=1.0, analysis_fps=1.0, scene_threshold=2.0, dedupe_threshold=0.0).sample(
        demo_media["video"], max_seconds=600
    )
    assert len(result.keyframes) == 10


def test_extract_video(demo_media: dict[str, Path]) -> None:
    extraction = extract_video(demo_media["video"], limits=Limits())
    assert extraction.doc_type == "video"
    assert len(extraction.images) == 4
    assert all(b.modality == Modality.FRAME and b.kind == "keyframe" for b in extraction.images)
    assert [b.locator.index for b in extraction.images] == [0, 1, 2, 3]
    assert extraction.images[1].locator.label() == "00:02-00:05"
    assert extraction.meta["duration"] == pytest.approx(10.0, abs=0.05)
    assert extraction.meta["decoder"] == "pyav"


def test_duration_limit_names_the_setting(long_tiny_video: Path) -> None:
    with pytest.raises(TooLargeError, match=r"620\.0 s long, over the limit of 600 s \(max_video_seconds\)"):
        extract_video(long_tiny_video, limits=Limits())
    # the same file is fine once the limit allows it: the refusal was the limit, nothing else
    allowed = extract_video(long_tiny_video, limits=MediaLimits(max_video_seconds=700))
    assert allowed.images and allowed.images[-1].locator.t_end == pytest.approx(620.0, abs=0.5)


def test_frame_size_limit(demo_media: dict[str, Path]) -> None:
    with pytest.raises(TooLargeError, match="max_image_pixels"):
        extract_video(demo_media["video"], limits=MediaLimits(max_image_pixels=100_000))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("audio_only.m4a", "no video stream"),
        ("empty.mp4", "empty"),
        ("truncated.mp4", "corrupt or truncated"),
        ("garbage.mp4", "corrupt or truncated"),
        ("zeroed_frames.mp4", r"frames cannot be decoded.*pyav: .*decord: "),  # both decoders tried
    ],
)
def test_broken_videos_fail_alone_with_a_reason(broken: dict[str, Path], name: str, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason) as caught:
        extract_video(broken[name], limits=Limits())
    assert name in str(caught.value)
    assert isinstance(caught.value, InputRejectedError)


def test_sampler_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="max_frames"):
        KeyframeSampler(max_frames=0)
    with pytest.raises(ValueError, match="backend"):
        KeyframeSampler(backend="ffmpeg")
