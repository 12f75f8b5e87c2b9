from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.milvus.conftest import CORPUS, DIM, EMBEDDER_ID, Loaded
from vlsearch.errors import EmbedderMismatchError, StoreUnavailableError
from vlsearch.milvus import Store
from vlsearch.testing.milvus_server import free_port, milvus_lite_server
from vlsearch.types import SearchFilter


def test_connect_is_idempotent_and_a_second_store_reuses_collections(loaded: Loaded) -> None:
    loaded.store.connect()
    other = Store(uri=loaded.uri, dim=DIM, embedder_id=EMBEDDER_ID)
    other.connect()
    try:
        assert other.ping()
        assert other.count() == loaded.store.count() >= len(CORPUS)
    finally:
        other.close()
    assert not other.ping()
    assert loaded.store.ping()


@pytest.mark.parametrize(("embedder", "dim"), [("other-model", DIM), (EMBEDDER_ID, 128)])
def test_other_embedder_is_refused(loaded: Loaded, embedder: str, dim: int) -> None:
    store = Store(uri=loaded.uri, dim=dim, embedder_id=embedder)
    with pytest.raises(EmbedderMismatchError) as info:
        store.connect()
    message = str(info.value)
    assert f"built with embedder {EMBEDDER_ID} (dim {DIM})" in message
    assert f"you configured {embedder} (dim {dim})" in message
    assert "new data dir or re-ingest" in message
    assert not store.ping()


def test_unconnected_store_says_so() -> None:
    store = Store(uri="/nonexistent/never.db", dim=4, embedder_id="x")
    assert not store.ping()
    with pytest.raises(StoreUnavailableError, match="connect"):
        store.count()


def test_bad_arguments_fail_early() -> None:
    with pytest.raises(ValueError, match="analyzer"):
        Store(uri="x.db", dim=4, embedder_id="x", analyzer="icu")
    with pytest.raises(ValueError, match="dim"):
        Store(uri="x.db", dim=0, embedder_id="x")
    with pytest.raises(ValueError, match=r"\.db"):
        Store(uri="relative/dir", dim=4, embedder_id="x").connect()


@pytest.mark.server
def test_unreachable_server_is_store_unavailable() -> None:
    store = Store(uri=f"http://127.0.0.1:{free_port()}", dim=4, embedder_id="x")
    with pytest.raises(StoreUnavailableError, match="cannot reach Milvus"):
        store.connect()


@pytest.mark.server
def test_server_going_away_is_store_unavailable(tmp_path: Path) -> None:
    with milvus_lite_server(tmp_path / "milvus") as server:
        store = Store(uri=server.uri, dim=4, embedder_id="x", analyzer="standard")
        store.connect()
        assert store.ping()
    # The context manager stopped the server.
    assert not store.ping()
    with pytest.raises(StoreUnavailableError, match="unavailable"):
        store.search_bm25("chunks", "anything", limit=3, flt=SearchFilter())
    with pytest.raises(StoreUnavailableError):
        store.count()
    store.close()


_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from vlsearch.milvus import Store
    from vlsearch.types import Item, Locator, Modality

    store = Store(uri=sys.argv[1], dim=4, embedder_id="child", analyzer="standard")
    store.connect()
    item = Item(id="c1", doc_id="dc", modality=Modality.TEXT, text="persisted gearbox manual",
                locator=Locator(page=2), source="/x.pdf", name="x.pdf", doc_type="pdf", groups=("g",))
    store.upsert([item], np.array([[1, 0, 0, 0]], dtype=np.float32))
    print("ready", flush=True)
    sys.stdin.readline()
    store.close()
    """
)


def test_lite_dir_held_by_another_process_then_reopened(tmp_path: Path) -> None:
    uri = str(tmp_path / "held" / "milvus.db")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready", child.stderr
        store = Store(uri=uri, dim=4, embedder_id="child", analyzer="standard")
        with pytest.raises(StoreUnavailableError, match="in use by another process"):
            store.connect()
    finally:
        child.communicate("\n", timeout=60)
    assert child.returncode == 0
    # Now free: a fresh process-side open must find the rows and load the released collections.
    store.connect()
    try:
        assert store.count() == 1
        hits = store.search_bm25("chunks", "gearbox", limit=3, flt=SearchFilter(groups=("g",)))
        assert [h.item.id for h in hits] == ["c1"]
        dense = store.search_dense("chunks", np.array([1, 0, 0, 0.1]), limit=3, flt=SearchFilter())
        assert [h.item.id for h in dense] == ["c1"]
    finally:
        store.close()
