"""FlashAttention-2 only where it runs: chosen by CUDA capability (mocked here) and flash_attn,
with one fallback to SDPA at load and at the first forward pass."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from vlsearch.models import device as device_mod
from vlsearch.models.device import DeviceChoice, resolve_device
from vlsearch.models.qwen3vl.backbone import load_backbone
from vlsearch.rerank import Qwen3VLReranker


@pytest.fixture()
def fake_cuda(monkeypatch: pytest.MonkeyPatch):
    """A CUDA device whose capability and flash_attn presence the test sets."""
    state = {"capability": (8, 0), "flash_attn": True}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *_: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *_: state["capability"])
    monkeypatch.setattr(device_mod, "flash_attention_available", lambda: state["flash_attn"])
    return state


@pytest.mark.parametrize(
    ("capability", "flash_attn", "dtype", "want"),
    [
        ((8, 0), True, None, "flash_attention_2"),  # A100: bf16 by default
        ((9, 0), True, "fp16", "flash_attention_2"),  # H100
        ((7, 5), True, None, "sdpa"),  # T4: no FA2 kernels below sm_80
        ((8, 6), False, None, "sdpa"),  # flash_attn not installed
        ((9, 0), True, "fp32", "sdpa"),  # FA2 needs a half dtype
    ],
)
def test_fa2_needs_capability_8_and_flash_attn(
    fake_cuda: dict, capability: tuple, flash_attn: bool, dtype: str | None, want: str, caplog
) -> None:
    fake_cuda.update(capability=capability, flash_attn=flash_attn)
    with caplog.at_level(logging.WARNING, logger="vlsearch.models.device"):
        choice = resolve_device(None, dtype)
    assert choice.device == "cuda" and choice.attn_implementation == want
    if want == "sdpa":
        assert "using SDPA" in caplog.text  # the fallback is logged, with its reason
        assert any(r in choice.reason for r in ("capability", "flash_attn", "dtype"))


def test_explicit_fa2_on_old_gpu_degrades_and_other_choices_are_kept(fake_cuda: dict) -> None:
    fake_cuda.update(capability=(7, 0))
    assert resolve_device("cuda", "bf16", "flash_attention_2").attn_implementation == "sdpa"
    assert resolve_device("cuda", "bf16", "eager").attn_implementation == "eager"
    assert resolve_device("cpu", "bf16", "flash_attention_2").attn_implementation == "sdpa"


def test_fa2_that_fails_at_load_falls_back_to_sdpa(tiny_model_dir: Path, caplog) -> None:
    # No flash_attn here: asking transformers for FA2 raises at load, as a broken install would.
    choice = DeviceChoice(
        device="cpu", dtype=torch.float32, attn_implementation="flash_attention_2", reason="t"
    )
    with caplog.at_level(logging.WARNING, logger="vlsearch.models.qwen3vl.backbone"):
        _processor, model = load_backbone(str(tiny_model_dir), choice)
    assert model.config._attn_implementation == "sdpa"
    assert "FlashAttention-2 failed at load" in caplog.text


def test_first_fa2_forward_failure_switches_to_sdpa_once(tiny_model_dir: Path, caplog) -> None:
    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu")
    docs = [{"text": "replace the fan"}, {"text": "cafeteria menu for Tuesday"}]
    want = model.score({"text": "fan"}, docs)
    # The model now claims FA2, whose kernel cannot run on this machine: the first forward raises.
    model._model.config._attn_implementation = "flash_attention_2"
    model._choice = DeviceChoice(
        device="cpu", dtype=torch.float32, attn_implementation="flash_attention_2", reason="t"
    )
    model._guard.checked = False
    with caplog.at_level(logging.WARNING, logger="vlsearch.models.qwen3vl.backbone"):
        got = model.score({"text": "fan"}, docs)
    assert got == pytest.approx(want, abs=1e-6)
    assert model.attn_implementation == "sdpa" and model._choice.attn_implementation == "sdpa"
    assert "first FlashAttention-2 forward failed" in caplog.text and model._guard.fallback
    calls = model.forward_calls
    model.score({"text": "fan"}, docs)
    assert model.forward_calls == calls + 1  # no second try, no extra forward


def test_oom_is_not_treated_as_a_kernel_failure(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vlsearch.models.qwen3vl import backbone

    model = Qwen3VLReranker(model_name_or_path=str(tiny_model_dir), device="cpu")
    model.load()
    model._model.config._attn_implementation = "flash_attention_2"

    def oom(*_a, **_k):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(backbone, "forward_batch", oom)
    with pytest.raises(torch.OutOfMemoryError):
        model.score({"text": "q"}, [{"text": "d"}])
    assert model._model.config._attn_implementation == "flash_attention_2" and not model._guard.fallback
