"""One Milvus URI parser: the schemes pymilvus connects with are servers, a path is a Lite file,
anything else is refused with the accepted list (the worker used to take grpc:// for a server,
the store for a file name; pymilvus rejects it)."""

from __future__ import annotations

import pytest

from vlsearch.config import get_settings
from vlsearch.milvus.uri import SERVER_SCHEMES, parse_milvus_uri
from vlsearch.worker import WorkerConfigError, check_worker_settings


@pytest.mark.parametrize(
    "uri",
    [
        "http://milvus:19530",
        "HTTPS://milvus.internal:19530",
        " tcp://10.0.0.5:19530 ",
        "unix:/run/milvus.sock",
    ],
)
def test_server_uris(uri: str) -> None:
    parsed = parse_milvus_uri(uri)
    assert parsed.server and not parsed.lite_file and parsed.uri == uri.strip()


@pytest.mark.parametrize("uri", ["/srv/data/milvus.db", "./data/milvus.db", "milvus.db"])
def test_lite_files(uri: str) -> None:
    assert parse_milvus_uri(uri).lite_file


@pytest.mark.parametrize("uri", ["grpc://milvus:19530", "ftp://x/milvus.db", ""])
def test_other_schemes_are_refused_with_what_works(uri: str) -> None:
    with pytest.raises(ValueError, match="Lite file path") as exc:
        parse_milvus_uri(uri)
    if uri:
        assert all(f"{s}://" in str(exc.value) for s in SERVER_SCHEMES)


def test_pymilvus_agrees_on_the_schemes() -> None:
    """The reference: pymilvus's own URI check accepts our server schemes and refuses grpc://."""
    from pymilvus.client.connection_manager import ConnectionConfig
    from pymilvus.exceptions import ConnectionConfigException

    for scheme in SERVER_SCHEMES:
        assert ConnectionConfig.from_uri(f"{scheme}://localhost:19530").address == "localhost:19530"
    with pytest.raises(ConnectionConfigException):
        ConnectionConfig.from_uri("grpc://localhost:19530")


def test_worker_refuses_a_lite_file_and_an_unknown_scheme(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WorkerConfigError, match="Milvus Lite file"):
        check_worker_settings(get_settings(data_dir=tmp_path))
    with pytest.raises(WorkerConfigError, match="grpc"):
        check_worker_settings(get_settings(data_dir=tmp_path, milvus_uri="grpc://milvus:19530"))
    check_worker_settings(get_settings(data_dir=tmp_path, milvus_uri="http://milvus:19530"))
