"""The speed benchmark runs end to end (toy shape) and writes its JSON."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "rerank_speed.py"


def test_rerank_speed_tiny_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [str(SCRIPT), "--device", "cpu", "--shape", "tiny", "--n", "3", "--tokens", "40"]
    argv += ["--mixed", "2", "--image-size", "64", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPT), run_name="__main__")
    result = json.loads((tmp_path / "rerank_speed_cpu_tiny.json").read_text())
    assert result["device"] == "cpu" and result["shape"] == "tiny"
    for name in ("text", "mixed"):
        entry = result["sets"][name]
        assert entry["official"]["forward_passes"] == entry["candidates"]
        assert entry["batched"]["forward_passes"] == 1
        assert entry["max_abs_score_diff"] < 1e-4  # fp32: batched == one pair per forward
        assert entry["batched"]["tokens"] == entry["official"]["tokens"]


def test_gpu_check_runs_end_to_end_in_tiny_cpu_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = SCRIPT.parent / "gpu_check.py"
    out = tmp_path / "gpu_check.json"
    monkeypatch.setattr(sys, "argv", [str(script), "--tiny", "--out", str(out)])
    runpy.run_path(str(script), run_name="__main__")
    result = json.loads(out.read_text())
    assert result["wheels"] == "all present" and result["flash_attn_installed"] is False
    (entry,) = result["shapes"]
    assert entry["shape"] == "tiny" and entry["attention_ran"] == "sdpa" and not entry["attention_fallback"]
    for name, candidates in (("text", 3), ("mixed", 3)):
        section = entry[name]
        assert section["candidates"] == candidates
        assert (
            section["one_pair"]["forward_passes"] == candidates and section["batched"]["forward_passes"] == 1
        )
        assert section["one_pair"]["tokens"] == section["batched"]["tokens"]
        assert section["max_abs_score_diff"] < 1e-4  # fp32: batched == one pair per forward
