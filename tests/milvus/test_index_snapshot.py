"""The in-process index persisted beside Lite: read back when current, rebuilt from Lite whenever it
might not be (a crash after a write, a crash while saving, a corrupt or truncated file, another
index definition, rows written by a program that does not know the snapshot). Crashes are real:
a child process writes and dies with os._exit, leaving no chance to clean up."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pymilvus import MilvusClient

from vlsearch.evidence.boxes import LineBoxes
from vlsearch.milvus import Store, schema
from vlsearch.milvus.index_snapshot import read_header, snapshot_path
from vlsearch.types import Item, Locator, Modality, SearchFilter

DIM = 16
WORDS = ["pump", "valve", "coolant", "filter", "alarm", "E-17", "PX-900", "电源", "模块", "故障"]
FILTERS = (SearchFilter(), SearchFilter(groups=("eng",)), SearchFilter(doc_ids=("d1", "d3")))


def _items(n: int, *, seed: int, prefix: str = "i") -> list[Item]:
    rng = random.Random(seed)
    return [
        Item(
            id=f"{prefix}{k}",
            doc_id=f"d{k // 4}",
            modality=(Modality.TEXT, Modality.TEXT, Modality.IMAGE)[k % 3],
            text=" ".join(rng.choices(WORDS, k=rng.randint(2, 12))),
            locator=Locator(page=k % 5 + 1, heading=("a", "b")),
            source=f"/docs/d{k // 4}.pdf",
            name=f"d{k // 4}.pdf",
            doc_type="pdf",
            groups=("eng",) if k % 2 else ("ops", "eng"),
            media=f"media/{k}.png" if k % 3 == 2 else "",
            lines=LineBoxes.pack([(0, 4, (0.1, 0.01 * k, 0.5, 0.01 * k + 0.05))] * (k % 3)),
        )
        for k in range(n)
    ]


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _open(uri: str, **kwargs: object) -> Store:
    store = Store(uri=uri, dim=DIM, embedder_id="t", **kwargs)  # type: ignore[arg-type]
    store.connect()
    return store


def _answers(store: Store) -> list[list[tuple[str, float]]]:
    out = []
    query = _vectors(1, 99)[0]
    for flt in FILTERS:
        for coll in ("chunks", "images"):
            hits = store.search_dense(coll, query, limit=8, flt=flt)
            out.append([(c.item.id, round(c.score, 4)) for c in hits])
            out.append([(c.item.id, c.item.lines.to_json()) for c in hits])  # evidence boxes kept
            out.append(
                [
                    (c.item.id, round(c.score, 3))
                    for c in store.search_bm25(coll, "pump E-17 电源", limit=8, flt=flt)
                ]
            )
    return out


def _source(uri: str, caplog: pytest.LogCaptureFixture) -> str:
    """Open, warm up and close; say where the index came from."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vlsearch"):
        store = _open(uri)
        store.warm_up()
        store.close()
    text = caplog.text
    if "read:" in text:
        return "snapshot"
    assert "built from Lite" in text, text
    return "lite"


@pytest.fixture
def filled(tmp_path: Path) -> tuple[str, list[list[tuple[str, float]]]]:
    """A closed store holding rows, an overwrite and deletions, and the answers it gave."""
    uri = str(tmp_path / "milvus.db")
    store = _open(uri)
    store.warm_up()
    store.upsert(_items(40, seed=1), _vectors(40, 1))
    store.upsert(_items(10, seed=2), _vectors(10, 2))  # same ids: replaced rows leave dead slots
    store.delete_document("d5")
    store.delete_ids(["i30", "i31"])
    answers = _answers(store)
    store.close()
    return uri, answers


def test_a_closed_store_is_read_back_from_its_snapshot(
    filled: tuple[str, list], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, answers = filled
    assert snapshot_path(uri).is_file()
    monkeypatch.setattr(Store, "_rows_for_index", lambda *a: pytest.fail("rebuilt from Lite"))
    store = _open(uri)
    assert store.warm_up() == 40 - 4 - 2
    assert _answers(store) == answers
    assert store.count(doc_id="d1") == 4 and store.count() == 34
    # it keeps following writes, and the next start reads those too
    store.upsert(_items(3, seed=3, prefix="new"), _vectors(3, 3))
    store.close()
    monkeypatch.undo()
    assert _source(uri, caplog) == "snapshot"
    again = _open(uri)
    assert again.count() == 37
    hit = again.search_dense("chunks", _vectors(3, 3)[0], limit=1, flt=SearchFilter())[0]
    assert hit.item.id == "new0" and hit.score == pytest.approx(1.0, abs=1e-5)
    again.close()


def test_snapshot_equals_a_rebuild_from_lite(filled: tuple[str, list]) -> None:
    uri, answers = filled
    rebuilt = _open(uri, index_snapshot=False)
    rebuilt.warm_up()
    assert _answers(rebuilt) == answers
    rebuilt.close()


_CHILD = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    sys.path.insert(0, sys.argv[2])
    from test_index_snapshot import _items, _open, _vectors
    store = _open(sys.argv[1])
    store.warm_up()
    if sys.argv[3] == "write":
        store.upsert(_items(2, seed=7, prefix="crash"), _vectors(2, 7))
    else:  # die between the snapshot file and Lite's token
        store.upsert(_items(2, seed=7, prefix="crash"), _vectors(2, 7))
        def die(token): os._exit(3)
        with store._memory.writing:
            store._snapshots.save(store._memory, key=store._index_key(store._memory), set_token=die)
    os._exit(3)
    """
)


@pytest.mark.parametrize("moment", ["write", "save"])
def test_a_crash_after_a_write_or_while_saving_rebuilds_from_lite(
    filled: tuple[str, list], caplog: pytest.LogCaptureFixture, moment: str
) -> None:
    uri, _ = filled
    before = read_header(snapshot_path(uri))[0]["token"]
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, uri, str(Path(__file__).parent), moment],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
    )
    assert child.returncode == 3, child.stderr[-2000:]
    after = read_header(snapshot_path(uri))[0]["token"]
    assert (after != before) == (moment == "save")  # the save wrote its file, then died
    assert _source(uri, caplog) == "lite"
    store = _open(uri)
    for k, vector in enumerate(_vectors(2, 7)):  # the rows the child wrote before dying are found
        hit = store.search_dense("chunks", vector, limit=1, flt=SearchFilter())[0]
        assert hit.item.id == f"crash{k}" and hit.score == pytest.approx(1.0, abs=1e-5)
    assert store.count() == 34 + 2
    store.close()


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_a_damaged_snapshot_is_rebuilt(
    filled: tuple[str, list], caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    uri, answers = filled
    path = snapshot_path(uri)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-5] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = bytearray(b"not a snapshot at all")
    path.write_bytes(bytes(data))
    assert _source(uri, caplog) == "lite"
    assert "checksum" in caplog.text or "truncated" in caplog.text or "not an index snapshot" in caplog.text
    store = _open(uri)
    assert _answers(store) == answers
    store.close()
    assert _source(uri, caplog) == "snapshot"  # the rebuild saved a good one


def _restate_k1(uri: str, k1: float) -> None:
    """Give the `chunks` collection another BM25 k1 through Lite's own index API."""
    client = MilvusClient(uri=uri)
    client.release_collection("chunks")
    client.drop_index("chunks", "sparse")
    params = client.prepare_index_params()
    schema.add_sparse_index(params, k1=k1, b=schema.BM25_B)
    client.create_index("chunks", params)
    client.load_collection("chunks")
    client.close()


def test_another_bm25_definition_or_a_foreign_write_rebuilds(
    filled: tuple[str, list], caplog: pytest.LogCaptureFixture
) -> None:
    uri, _ = filled
    before = read_header(snapshot_path(uri))[0]["key"]
    _restate_k1(uri, 1.2)  # the collection now states k1 = 1.2; token and row counts unchanged
    assert _source(uri, caplog) == "lite"
    assert "another index definition" in caplog.text
    key = read_header(snapshot_path(uri))[0]["key"]
    assert key["collections"]["chunks"]["bm25_k1"] == 1.2 != before["collections"]["chunks"]["bm25_k1"]
    assert key["collections"]["images"] == before["collections"]["images"]
    assert _source(uri, caplog) == "snapshot"  # the rebuild saved one under the new definition
    # a program that does not know the snapshot writes a row: the counts no longer agree
    client = MilvusClient(uri=uri)
    row = {
        "id": "foreign",
        "doc_id": "dx",
        "modality": "text",
        "doc_type": "pdf",
        "name": "x",
        "source": "x",
        "text": "pump",
        "locator": {},
        "groups": ["eng"],
        "groups_key": "|656e67|",
        "media": "",
        "thumbnail": "",
        "dense": _vectors(1, 5)[0].tolist(),
    }
    client.insert("chunks", [row])
    client.flush("chunks")
    client.close()
    assert _source(uri, caplog) == "lite"
    assert "row counts differ" in caplog.text


def test_a_snapshot_made_under_another_stop_list_is_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same rows, same token, same counts: only the analyzer's stop list differs (a store made with
    another definition, whose snapshot lands beside this data dir). The key refuses it."""
    stops = {"other": (*schema.STOP_TOKENS, "pump"), "ours": schema.STOP_TOKENS}
    uris = {}
    for name, tokens in stops.items():
        monkeypatch.setattr(schema, "STOP_TOKENS", tokens)
        uris[name] = str(tmp_path / name / "milvus.db")
        store = _open(uris[name])
        store.warm_up()
        store.upsert(_items(12, seed=4), _vectors(12, 4))
        store.close()
    monkeypatch.setattr(schema, "STOP_TOKENS", stops["ours"])
    theirs = read_header(snapshot_path(uris["other"]))[0]
    ours = read_header(snapshot_path(uris["ours"]))[0]
    assert (
        theirs["key"]["collections"]["chunks"]["analyzer"] != ours["key"]["collections"]["chunks"]["analyzer"]
    )
    snapshot_path(uris["ours"]).write_bytes(snapshot_path(uris["other"]).read_bytes())
    client = MilvusClient(uri=uris["ours"])
    client.alter_collection_properties("chunks", properties={"vlsearch.index_token": theirs["token"]})
    client.close()
    assert _source(uris["ours"], caplog) == "lite"
    assert "another index definition" in caplog.text
    store = _open(uris["ours"])
    hits = store.search_bm25("chunks", "pump", limit=3, flt=SearchFilter())
    assert hits and all("pump" in c.item.text for c in hits)  # "pump" is no stop word here
    store.close()


def test_snapshot_off_always_rebuilds(filled: tuple[str, list], caplog: pytest.LogCaptureFixture) -> None:
    uri, _ = filled
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vlsearch"):
        store = _open(uri, index_snapshot=False)
        store.warm_up()
        store.close()
    assert "built from Lite" in caplog.text and "written" not in caplog.text


def test_a_snapshot_read_ahead_of_connect_is_used_and_still_checked(
    filled: tuple[str, list], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, answers = filled
    with monkeypatch.context() as patch:
        patch.setattr(Store, "_rows_for_index", lambda *a: pytest.fail("rebuilt from Lite"))
        store = Store(uri=uri, dim=DIM, embedder_id="t")
        store.prefetch_index_snapshot()  # a server starts reading before Lite opens
        store.connect()
        store.warm_up()
        assert _answers(store) == answers
        store.upsert(_items(1, seed=9, prefix="late"), _vectors(1, 9))
        store.close()
    # read ahead, then Lite changes underneath (another program's write): the token check still runs
    store = Store(uri=uri, dim=DIM, embedder_id="t")
    store.prefetch_index_snapshot()
    client = MilvusClient(uri=uri)
    client.alter_collection_properties("chunks", properties={"vlsearch.index_token": "someone-else"})
    client.close()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vlsearch"):
        store.connect()
        store.warm_up()
    assert "tokens differ" in caplog.text and "built from Lite" in caplog.text
    assert store.count() == 35
    store.close()
