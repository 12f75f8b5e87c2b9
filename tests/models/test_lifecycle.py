"""The shared load state: every local model reports UNLOADED → LOADING → READY / FAILED through it."""

from __future__ import annotations

import threading

import pytest

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelState
from vlsearch.models.lifecycle import ModelLifecycle
from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder
from vlsearch.rerank import Qwen3VLReranker


def test_states_through_a_failed_then_a_good_load() -> None:
    life = ModelLifecycle()
    assert (life.state, life.error) == (ModelState.UNLOADED, "")
    seen: list[ModelState] = []
    with pytest.raises(OSError), life.loading():
        seen.append(life.state)
        raise OSError("disk gone")
    assert seen == [ModelState.LOADING]
    assert (life.state, life.error) == (ModelState.FAILED, "OSError: disk gone")
    with life.loading(str):
        pass
    assert (life.state, life.error) == (ModelState.READY, "")
    life.mark_unloaded()
    assert life.state is ModelState.UNLOADED


def test_loading_holds_the_lock_other_threads_wait_on() -> None:
    life = ModelLifecycle()
    inside, release = threading.Event(), threading.Event()
    states: list[ModelState] = []

    def load() -> None:
        with life.loading():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=load)
    t.start()
    inside.wait(5)
    acquired = life.lock.acquire(timeout=0.05)
    states.append(life.state)
    release.set()
    t.join()
    assert not acquired and states == [ModelState.LOADING] and life.state is ModelState.READY


@pytest.mark.parametrize(
    "model",
    [
        lambda: Qwen3VLReranker(model_name_or_path="/nonexistent/reranker"),
        lambda: Qwen3VLEmbedder(model="/nonexistent/embedder"),
    ],
    ids=["reranker", "qwen3vl-embedder"],
)
def test_a_missing_model_reports_failed_with_the_reason(model) -> None:  # type: ignore[no-untyped-def]
    m = model()
    assert m.info().state is ModelState.UNLOADED
    with pytest.raises(ModelUnavailableError):
        m.load()
    info = m.info()
    assert info.state is ModelState.FAILED and "/nonexistent/" in info.error
    m.unload()
    assert m.info().state is ModelState.UNLOADED


def test_a_named_load_fails_as_model_unavailable_with_the_reason_and_the_fix() -> None:
    life = ModelLifecycle()
    with pytest.raises(ModelUnavailableError) as caught, life.loading(what="toy model", fix="reinstall it"):
        raise OSError("disk gone")
    assert str(caught.value) == "toy model failed to load (OSError: disk gone); reinstall it"
    assert isinstance(caught.value.__cause__, OSError)
    assert (life.state, life.error) == (ModelState.FAILED, "OSError: disk gone")
