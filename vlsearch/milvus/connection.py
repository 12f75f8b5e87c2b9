"""Reaching Milvus: gRPC channel options, what counts as "unavailable", and Milvus Lite's
per-path reference counting (the last Store on an embedded path stops its Lite server)."""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import os
import threading
from collections.abc import Callable

import grpc
from pymilvus import MilvusException

from vlsearch.milvus.index_snapshot import IndexSnapshots
from vlsearch.milvus.memory_index import MemoryIndex

# pymilvus pings every 10 s even with no call in flight. A gRPC server with default settings
# (Milvus Lite, embedded or `milvus-lite server`) tolerates one ping per 5 min without calls and
# answers more with GOAWAY "too_many_pings", dropping idle clients after about a minute. Pinging only
# during calls, at most every 5 min, suits both Lite and a Milvus server (whose policy is looser).
GRPC_OPTIONS = {
    "grpc.keepalive_time_ms": 300_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": False,
}
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 8.0
_CONNECT_FAILED = 2  # pymilvus Status.CONNECT_FAILED
_UNAVAILABLE_GRPC = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, grpc.RpcError):
        return exc.code() in _UNAVAILABLE_GRPC  # type: ignore[attr-defined]
    if isinstance(exc, MilvusException):
        if exc.code == _CONNECT_FAILED or exc.code in _UNAVAILABLE_GRPC:
            return True
        cause = exc.__cause__
        return cause is not None and cause is not exc and is_unavailable(cause)
    return False


def lite_open_failure(uri: str) -> str:
    """Why an embedded Lite data dir did not open, with what to do about it."""
    lock = os.path.join(uri, "LOCK")
    if os.path.exists(lock):
        with open(lock, "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return (
                    f"Milvus Lite data dir {uri} is in use by another process (Lite allows one "
                    "process per data dir): go through that process's API (the CLI: add --api "
                    "http://127.0.0.1:8000), stop it, or serve the dir with `milvus-lite server` "
                    "and set VLSEARCH_MILVUS_URI to its http:// URI"
                )
            fcntl.flock(fh, fcntl.LOCK_UN)
    return f"cannot open Milvus Lite data dir {uri}; check that the path is a writable directory"


# pymilvus keeps one in-process Lite server per path for the whole process (a module-level
# manager in milvus_lite); this counts the Stores using each path so the last close() stops it.
# Stores sharing a path also share its MemoryIndex: each must see the others' writes.
# Every Store on a path writes through its one index, also a Store that searches through Lite:
# the index is built from Lite once and must then see every write.
_lite_users: dict[str, tuple[int, MemoryIndex, IndexSnapshots]] = {}
_lite_users_lock = threading.Lock()


def lite_acquire(uri: str, new_index: Callable[[], MemoryIndex]) -> tuple[MemoryIndex, IndexSnapshots]:
    """Count one more user of `uri`; returns the path's shared index and its snapshot (made by the
    first user)."""
    key = os.path.abspath(uri)
    with _lite_users_lock:
        entry = _lite_users.get(key)
        users, index, snapshots = entry if entry is not None else (0, new_index(), IndexSnapshots(key))
        _lite_users[key] = (users + 1, index, snapshots)
        return index, snapshots


def lite_release(uri: str) -> None:
    key = os.path.abspath(uri)
    with _lite_users_lock:
        entry = _lite_users.get(key)
        if entry is not None and entry[0] > 1:
            _lite_users[key] = (entry[0] - 1, entry[1], entry[2])
            return
        _lite_users.pop(key, None)
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(key)


@functools.cache
def milvus_lite_version() -> str:
    try:
        return importlib.metadata.version("milvus-lite")
    except importlib.metadata.PackageNotFoundError:
        return ""
