"""The seed's duration rule: videos longer than max_query_video_seconds (120 s) are refused by
process(), score() and `vlsearch rerank`, before any model work, naming the setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vlsearch.config import get_settings
from vlsearch.errors import TooLargeError
from vlsearch.models.qwen3vl.inputs import VideoClip, parse_side
from vlsearch.rerank import Qwen3VLReranker

from .parity_cases import write_mp4


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 121 s at 1 fps, 16x16: over the default limit, yet written in a blink
    return write_mp4(tmp_path_factory.mktemp("long") / "long.mp4", frames=121, fps=1, size=(16, 16))


def test_default_limit_is_120_s_on_every_side(tiny_model_dir: Path, long_video: Path) -> None:
    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu")
    assert model.limits.max_video_seconds == 120.0
    for inputs in (
        {"query": {"text": "q"}, "documents": [{"text": "d"}, {"video": str(long_video)}]},
        {"query": {"video": str(long_video)}, "documents": [{"text": "d"}]},
        {"query": {"text": "q"}, "documents": [{"video": [str(long_video)]}]},  # a list of video files
    ):
        with pytest.raises(TooLargeError, match=r"121\.0 s long.*120 s \(max_query_video_seconds\)") as err:
            model.process(inputs)
        assert "VLSEARCH_MAX_QUERY_VIDEO_SECONDS" in str(err.value)
    assert not model.loaded  # refused before the weights were touched


def test_settings_raise_or_lower_the_limit(
    tiny_model_dir: Path, long_video: Path, media: dict[str, Path]
) -> None:
    strict = Qwen3VLReranker.from_settings(
        get_settings(max_query_video_seconds=2.0), model=str(tiny_model_dir)
    )
    with pytest.raises(TooLargeError, match="max_query_video_seconds"):
        strict.score({"text": "q"}, [{"video": str(media["video"])}])  # 3 s
    # a stretch of a long video counts by its own length
    strict.check_inputs(parse_side({"video": VideoClip(str(media["video"]), 0.5, 2.0)}), [])
    relaxed = Qwen3VLReranker.from_settings(
        get_settings(max_query_video_seconds=300), model=str(tiny_model_dir)
    )
    relaxed.check_inputs(parse_side({"video": str(long_video)}), [])


def test_cli_rerank_refuses_a_long_video_naming_the_setting(
    tiny_model_dir: Path, media: dict[str, Path], tmp_path: Path
) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"query": {"text": "q"}, "documents": [{"video": str(media["video"])}]}))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLSEARCH_MAX_QUERY_VIDEO_SECONDS": "2"}
    out = subprocess.run(
        [sys.executable, "-m", "vlsearch", "rerank", str(inputs), "--model", str(tiny_model_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "max_query_video_seconds" in out.stderr and "3.0 s long" in out.stderr
