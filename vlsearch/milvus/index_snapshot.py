"""The in-process search index persisted next to the Milvus Lite data dir, so a start reads it back
in seconds instead of rebuilding it from Lite (73 s at 100k rows).

    <data_dir>/milvus.db.index   magic, header length, JSON header, then the arrays

The header holds the format, the *definition key* (dimension, embedder, schema version, analyzer
with the terms it gives a probe text, BM25 k1/b: see MemoryIndex.definition), the *token*, each
collection's row count and array layout, and the SHA-256 of everything after the header. A file
is written to a temporary name, fsynced and renamed over the old one, so a reader sees a whole
old snapshot or a whole new one.

Staleness. Lite stays the store of record, and a snapshot is only good for the rows Lite held
when it was written. Both carry the same random token: the snapshot in its header, Lite as a
collection property (`vlsearch.index_token` on `chunks`, saved atomically by Lite with its
schema). Every Store, before the first write it makes after a snapshot was saved or read (and
before its first write at all), gives Lite a fresh token; a snapshot is saved by writing the file
first and Lite's token second, both under the index's write lock. So whatever a crash interrupts
(a Lite write, the file, the property), the two tokens differ and the next start rebuilds from
Lite; a data dir restored from elsewhere carries its own token. Row counts per collection are
compared too, which catches most writes by programs that do not know the token. A file that is
unreadable, truncated, fails its checksum, or was made under another definition is rebuilt too.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from vlsearch.evidence.boxes import NO_LINES, LineBoxes
from vlsearch.milvus.memory_index import CollectionState, MemoryIndex
from vlsearch.milvus.rows import locator_from_json
from vlsearch.types import Item, Modality

log = logging.getLogger(__name__)

FORMAT = 2  # 2: each row's line boxes (evidence.boxes) are kept
TOKEN_PROPERTY = "vlsearch.index_token"
TOKEN_COLLECTION = "chunks"
_MAGIC = b"VLSIDX1\n"
_ALIGN = 64
_ARRAYS = ("vectors", "lengths", "terms", "offsets", "rows", "tfs")
_STRINGS = ("id", "doc_id", "modality", "doc_type", "name", "source", "text", "media", "thumbnail")
_MODALITY = {m.value: m for m in Modality}
_LINE_BYTES = 24  # one packed line box: six int32 (evidence.boxes)


class SnapshotInvalid(Exception):
    """The snapshot cannot be used (why is the message); rebuild from Lite."""


def snapshot_path(lite_uri: str) -> Path:
    """Where the index of the Lite data dir `lite_uri` is persisted (beside it, not inside it:
    Lite owns its directory)."""
    return Path(os.path.abspath(lite_uri) + ".index")


def new_token() -> str:
    return secrets.token_hex(16)


def _item_columns(items: list[Item]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Items as JSON columns; locators and group tuples stored once each and referenced by index
    (rebuilding 100k frozen Locators cost more than everything else a snapshot read does)."""
    locators: dict[str, int] = {}
    groups: dict[tuple[str, ...], int] = {}
    locator_ix = np.empty(len(items), dtype=np.int32)
    groups_ix = np.empty(len(items), dtype=np.int32)
    for k, item in enumerate(items):
        loc = json.dumps(item.locator.to_dict(), sort_keys=True, ensure_ascii=False)
        locator_ix[k] = locators.setdefault(loc, len(locators))
        groups_ix[k] = groups.setdefault(item.groups, len(groups))
    columns: dict[str, Any] = {
        "id": [i.id for i in items],
        "doc_id": [i.doc_id for i in items],
        "modality": [i.modality.value for i in items],
        "doc_type": [i.doc_type for i in items],
        "name": [i.name for i in items],
        "source": [i.source for i in items],
        "text": [i.text for i in items],
        "media": [i.media for i in items],
        "thumbnail": [i.thumbnail for i in items],
        "locators": list(locators),
        "groups": [list(g) for g in groups],
    }
    return json.dumps(columns, ensure_ascii=False).encode("utf-8"), locator_ix, groups_ix


def _line_columns(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    """Every row's packed line boxes, concatenated (int32), and where each row's start (in bytes)."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(item.lines.data) for item in items], out=offsets[1:])
    packed = b"".join(item.lines.data for item in items)
    return np.frombuffer(packed, dtype=np.uint8).copy(), offsets


def _items_from_columns(
    raw: bytes, locator_ix: np.ndarray, groups_ix: np.ndarray, lines: np.ndarray, line_offsets: np.ndarray
) -> list[Item]:
    columns = json.loads(raw.decode("utf-8"))
    n = len(columns["id"])
    if any(len(columns[c]) != n for c in _STRINGS) or locator_ix.shape != (n,) or groups_ix.shape != (n,):
        raise ValueError("item columns differ in length")
    bounds = line_offsets.tolist()
    if (
        len(bounds) != n + 1
        or bounds[0] != 0
        or bounds[-1] != lines.shape[0]
        or any(b < a or (b - a) % _LINE_BYTES for a, b in itertools.pairwise(bounds))
    ):
        raise ValueError("line box offsets do not agree")
    packed = lines.tobytes()
    locators = [locator_from_json(json.loads(loc)) for loc in columns["locators"]]
    groups = [tuple(g) for g in columns["groups"]]
    modality = [_MODALITY[m] for m in columns["modality"]]
    return [
        Item(
            id=columns["id"][k],
            doc_id=columns["doc_id"][k],
            modality=modality[k],
            text=columns["text"][k],
            locator=locators[lix],
            source=columns["source"][k],
            name=columns["name"][k],
            doc_type=columns["doc_type"][k],
            groups=groups[gix],
            media=columns["media"][k],
            thumbnail=columns["thumbnail"][k],
            lines=LineBoxes(packed[bounds[k] : bounds[k + 1]]) if bounds[k + 1] > bounds[k] else NO_LINES,
        )
        for k, (lix, gix) in enumerate(zip(locator_ix.tolist(), groups_ix.tolist(), strict=True))
    ]


def _value_regions(state: CollectionState) -> list[tuple[str, bytes | np.ndarray]]:
    """Filter attribute postings (attribute -> value -> row positions) as a JSON list of values and
    CSR arrays per attribute: sets of positions rebuilt from arrays, not row by row."""
    if state.values is None:
        return []
    out: list[tuple[str, bytes | np.ndarray]] = []
    for attr, by_value in sorted(state.values.items()):
        names = sorted(by_value)
        offsets = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum([len(by_value[v]) for v in names], out=offsets[1:])
        positions = np.concatenate([by_value[v] for v in names]) if names else np.zeros(0, np.int32)
        out.append((f"values.{attr}", json.dumps(names, ensure_ascii=False).encode("utf-8")))
        out.append((f"values.{attr}.offsets", offsets))
        out.append((f"values.{attr}.positions", positions.astype(np.int32)))
    return out


def _values_from(
    name: str, buffers: Mapping[tuple[str, str], Any], n: int
) -> dict[str, dict[str, np.ndarray]] | None:
    attrs = sorted({f.split(".")[1] for (c, f) in buffers if c == name and f.startswith("values.")})
    if not attrs:
        return None
    out: dict[str, dict[str, np.ndarray]] = {}
    for attr in attrs:
        names = json.loads(bytes(buffers[(name, f"values.{attr}")]).decode("utf-8"))
        offsets = buffers[(name, f"values.{attr}.offsets")].tolist()
        positions = buffers[(name, f"values.{attr}.positions")]
        if len(offsets) != len(names) + 1 or offsets[-1] != positions.shape[0]:
            raise ValueError(f"attribute {attr} arrays do not agree")
        if positions.size and (int(positions.min()) < 0 or int(positions.max()) >= n):
            raise ValueError(f"attribute {attr} points past the rows")
        out[attr] = {v: positions[offsets[k] : offsets[k + 1]] for k, v in enumerate(names)}
    return out


def write_snapshot(
    path: Path, states: Mapping[str, CollectionState], *, key: Mapping[str, Any], token: str
) -> int:
    """Write atomically (temporary file, fsync, rename, directory fsync). Returns the bytes written."""
    blobs: list[bytes | np.ndarray] = []
    layout: dict[str, Any] = {}
    offset = 0
    crc = 0
    for name, state in states.items():
        items, locator_ix, groups_ix = _item_columns(state.items)
        arrays = {}
        regions: list[tuple[str, bytes | np.ndarray]] = [("items", items), ("locator_ix", locator_ix)]
        lines, line_offsets = _line_columns(state.items)
        regions += [("groups_ix", groups_ix), ("lines", lines), ("line_offsets", line_offsets)]
        regions += [(f, getattr(state, f)) for f in _ARRAYS]
        regions += _value_regions(state)
        for field, data in regions:
            pad = -offset % _ALIGN
            if pad:
                blobs.append(b"\0" * pad)
                crc = zlib.crc32(b"\0" * pad, crc)
                offset += pad
            if isinstance(data, bytes):
                entry: dict[str, Any] = {"offset": offset, "nbytes": len(data)}
            else:
                data = np.ascontiguousarray(data)
                entry = {
                    "offset": offset,
                    "nbytes": data.nbytes,
                    "dtype": data.dtype.str,
                    "shape": list(data.shape),
                }
            crc = zlib.crc32(_raw(data), crc)
            arrays[field] = entry
            blobs.append(data)
            offset += int(entry["nbytes"])
        layout[name] = {"rows": len(state.items), "arrays": arrays}
    header = json.dumps(
        {
            "format": FORMAT,
            "key": key,
            "token": token,
            "collections": layout,
            "payload_bytes": offset,
            "payload_crc32": crc,
            "written_at": time.time(),
        },
        sort_keys=True,
    ).encode("utf-8")
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<Q", len(header)) + header)
            for blob in blobs:
                fh.write(_raw(blob))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return len(_MAGIC) + 8 + len(header) + offset


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The header and where the payload starts; SnapshotInvalid when there is no usable file."""
    try:
        with open(path, "rb") as fh:
            return _header(fh, path)
    except FileNotFoundError:
        raise SnapshotInvalid("no snapshot") from None
    except OSError as exc:
        raise SnapshotInvalid(f"{path.name} is unreadable ({exc})") from exc


def _header(fh: BinaryIO, path: Path) -> tuple[dict[str, Any], int]:
    head = fh.read(len(_MAGIC) + 8)
    if len(head) < len(_MAGIC) + 8 or head[: len(_MAGIC)] != _MAGIC:
        raise SnapshotInvalid(f"{path.name} is not an index snapshot")
    (length,) = struct.unpack("<Q", head[len(_MAGIC) :])
    if length > 64 << 20:
        raise SnapshotInvalid(f"{path.name} has an implausible header ({length} bytes)")
    try:
        header = json.loads(fh.read(length).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SnapshotInvalid(f"{path.name} has an unreadable header ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SnapshotInvalid(f"{path.name} has another format")
    return header, len(_MAGIC) + 8 + length


@dataclass(frozen=True)
class ParsedSnapshot:
    """A whole, well-formed snapshot made under the expected definition; whether it is current
    (its token and row counts against Lite's) is checked by `check_current`."""

    key: Any
    token: str
    states: dict[str, CollectionState]

    def check_key(self, key: Mapping[str, Any]) -> None:
        if self.key != json.loads(json.dumps(key)):
            raise SnapshotInvalid("made under another index definition (analyzer, BM25 or embedder)")


def parse_snapshot(path: Path, *, key: Mapping[str, Any] | None) -> ParsedSnapshot:
    """Read and check the file on its own (format, length, checksum, shapes, and the definition key
    unless None: then the caller checks it later with `check_key`). Arrays are read straight into
    their own buffers, which the index then adopts."""
    try:
        with open(path, "rb") as fh:
            header, _ = _header(fh, path)
            if key is not None and header.get("key") != json.loads(json.dumps(key)):
                raise SnapshotInvalid("made under another index definition (analyzer, BM25 or embedder)")
            regions = sorted(
                (
                    (int(e["offset"]), name, field, e)
                    for name, c in header["collections"].items()
                    for field, e in c["arrays"].items()
                ),
                key=lambda r: (r[0], int(r[3]["nbytes"])),  # an empty array sits before its neighbour
            )
            crc, pos = 0, 0
            buffers: dict[tuple[str, str], Any] = {}
            for offset, name, field, entry in regions:
                if offset < pos:
                    raise SnapshotInvalid(f"{path.name} is malformed (overlapping arrays)")
                gap = fh.read(offset - pos)
                crc = zlib.crc32(gap, crc)
                nbytes = int(entry["nbytes"])
                if "dtype" in entry:
                    buffer: Any = np.empty(tuple(entry["shape"]), dtype=np.dtype(entry["dtype"]))
                    if buffer.nbytes != nbytes:
                        raise SnapshotInvalid(f"{path.name} is malformed ({field} size)")
                else:
                    buffer = bytearray(nbytes)
                view = _raw(buffer)
                if fh.readinto(view) != nbytes or len(gap) != offset - pos:
                    raise SnapshotInvalid(f"{path.name} is truncated")
                crc = zlib.crc32(view, crc)
                buffers[(name, field)] = buffer
                pos = offset + nbytes
            if pos != header.get("payload_bytes") or fh.read(1):
                raise SnapshotInvalid(f"{path.name} is truncated or has trailing bytes")
    except FileNotFoundError:
        raise SnapshotInvalid("no snapshot") from None
    except OSError as exc:
        raise SnapshotInvalid(f"{path.name} is unreadable ({exc})") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotInvalid(f"{path.name} is malformed ({exc})") from exc
    if crc != header.get("payload_crc32"):
        raise SnapshotInvalid(f"{path.name} fails its checksum")
    try:
        states = {name: _state(name, buffers) for name in header["collections"]}
    except (KeyError, TypeError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise SnapshotInvalid(f"{path.name} is malformed ({exc})") from exc
    return ParsedSnapshot(key=header.get("key"), token=str(header.get("token", "")), states=states)


def check_current(
    parsed: ParsedSnapshot, *, token: str, counts: Callable[[], Mapping[str, int]]
) -> dict[str, CollectionState]:
    """The states if the snapshot matches Lite now: same token, same row counts (`counts` asks
    Lite, so it is called last)."""
    if not token or parsed.token != token:
        raise SnapshotInvalid("Lite was written after the snapshot (tokens differ)")
    lite = dict(counts())
    mine = {name: len(s.items) for name, s in parsed.states.items()}
    if lite != mine:
        raise SnapshotInvalid(f"row counts differ (Lite {lite}, snapshot {mine})")
    return parsed.states


def read_snapshot(
    path: Path, *, key: Mapping[str, Any], token: str, counts: Callable[[], Mapping[str, int]]
) -> dict[str, CollectionState]:
    """The states in `path` if it is whole and current (parse_snapshot, then check_current)."""
    return check_current(parse_snapshot(path, key=key), token=token, counts=counts)


def _state(name: str, buffers: Mapping[tuple[str, str], Any]) -> CollectionState:
    items = _items_from_columns(
        bytes(buffers[(name, "items")]),
        buffers[(name, "locator_ix")],
        buffers[(name, "groups_ix")],
        buffers[(name, "lines")],
        buffers[(name, "line_offsets")],
    )
    state = CollectionState(
        items=items,
        values=_values_from(name, buffers, len(items)),
        **{f: buffers[(name, f)] for f in _ARRAYS},
    )
    n, terms = len(items), state.terms.shape[0]
    if (
        state.vectors.ndim != 2
        or state.vectors.shape[0] != n
        or state.lengths.shape != (n,)
        or state.offsets.shape != (terms + 1,)
        or state.rows.shape != state.tfs.shape
        or int(state.offsets[-1]) != state.rows.shape[0]
        or bool(np.any(np.diff(state.offsets) < 0))
        or (state.rows.size and (int(state.rows.min()) < 0 or int(state.rows.max()) >= n))
    ):
        raise ValueError("array shapes do not agree")
    return state


def _raw(data: bytes | bytearray | np.ndarray) -> memoryview:
    """The bytes of `data` as a flat view (an empty array included)."""
    if isinstance(data, bytes | bytearray):
        return memoryview(data)
    return np.ascontiguousarray(data).reshape(-1).view(np.uint8).data


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not fsync directories; the rename itself is atomic
    finally:
        os.close(fd)


class SnapshotPrefetch:
    """`parse_snapshot` on a background thread, started before Lite opens the data dir: at 100k rows
    each takes seconds, and Lite's part (reading parquet) leaves a core free."""

    def __init__(self, path: Path, *, then: Callable[[], object] | None = None) -> None:
        """`then` runs on the thread after the read (the caller's next slow step, e.g. loading an
        analyzer's dictionary, which the definition key needs anyway)."""
        self.path = path
        self._future: Future[ParsedSnapshot] = Future()
        threading.Thread(target=self._run, args=(then,), name="index-snapshot-read", daemon=True).start()

    def _run(self, then: Callable[[], object] | None) -> None:
        try:
            parsed = parse_snapshot(self.path, key=None)
        except BaseException as exc:  # handed to whoever waits for the result
            self._future.set_exception(exc)
            return
        if then is not None:
            try:
                then()
            except Exception:  # the caller runs it again on its own thread, where errors surface
                log.debug("read-ahead follow-up failed", exc_info=True)
        self._future.set_result(parsed)

    def result(self, key: Mapping[str, Any]) -> ParsedSnapshot:
        parsed = self._future.result()
        parsed.check_key(key)
        return parsed


class IndexSnapshots:
    """The snapshot of one Lite data dir, shared by every Store on it (like its MemoryIndex).

    `fresh_token`: this process already gave Lite a token no snapshot carries, so further writes
    need not change it again. `clean`: the index equals the snapshot on disk (nothing to save)."""

    def __init__(self, lite_uri: str) -> None:
        self.path = snapshot_path(lite_uri)
        self._fresh_token = False
        self._clean = False
        self._lock = threading.Lock()

    def before_write(self, set_token: Callable[[str], None]) -> None:
        """Call before writing to Lite (with the index's write lock held)."""
        with self._lock:
            if not self._fresh_token:
                set_token(new_token())
                self._fresh_token = True
            self._clean = False

    def load(
        self,
        memory: MemoryIndex,
        *,
        key: Mapping[str, Any],
        token: str,
        counts: Callable[[], Mapping[str, int]],
        prefetch: SnapshotPrefetch | None = None,
    ) -> int | None:
        """Fill `memory` from the snapshot if it is current (rows), else None and why is logged.
        Call with the index's write lock held, before `memory` is built. `prefetch`: the file as
        parsed in the background (used when it read this path)."""
        started = time.perf_counter()
        try:
            if prefetch is not None and prefetch.path == self.path:
                parsed = prefetch.result(key)
            else:
                parsed = parse_snapshot(self.path, key=key)
            states = check_current(parsed, token=token, counts=counts)
        except SnapshotInvalid as exc:
            if str(exc) != "no snapshot":
                log.info("index snapshot %s not used: %s; rebuilding from Lite", self.path, exc)
            return None
        rows = memory.restore(states)
        with self._lock:
            self._clean = True
            self._fresh_token = False
        log.info("index snapshot %s read: %d rows in %.2f s", self.path, rows, time.perf_counter() - started)
        return rows

    def save(self, memory: MemoryIndex, *, key: Mapping[str, Any], set_token: Callable[[str], None]) -> bool:
        """Persist `memory` unless unchanged since the last save or load. Call with the index's write
        lock held. The file goes first and Lite's token second: a crash in between leaves tokens
        that differ, so the file is never taken for current."""
        with self._lock:
            if self._clean:
                return False
        states = memory.export_state()
        if states is None:
            return False
        started = time.perf_counter()
        token = new_token()
        size = write_snapshot(self.path, states, key=key, token=token)
        set_token(token)
        with self._lock:
            self._clean = True
            self._fresh_token = False
        log.info(
            "index snapshot %s written: %d rows, %.1f MB in %.2f s",
            self.path,
            sum(len(s.items) for s in states.values()),
            size / 1e6,
            time.perf_counter() - started,
        )
        return True
