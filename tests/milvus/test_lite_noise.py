"""Starting on a fresh Milvus Lite data dir logs no errors: the in-process gRPC server's traceback
for pymilvus's expected `AllocTimestamp` probe is dropped, and nothing else is."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pymilvus.grpc_gen.milvus_pb2_grpc import MilvusServiceServicer

from tests.pipeline.conftest import make_settings
from vlsearch.milvus.lite_noise import silence_expected_unimplemented
from vlsearch.runtime import Runtime


def test_a_fresh_start_logs_no_grpc_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    rt = Runtime.from_settings(make_settings(tmp_path))
    rt.start()  # creates the three collections and their indexes
    rt.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]


class _Context:
    def set_code(self, code: object) -> None:
        pass

    def set_details(self, details: str) -> None:
        pass


def _record_of(method: str) -> logging.LogRecord:
    try:
        getattr(MilvusServiceServicer(), method)(None, _Context())
    except NotImplementedError as exc:
        exc_info = (NotImplementedError, exc, exc.__traceback__)
    return logging.LogRecord(
        "grpc._server",
        logging.ERROR,
        __file__,
        1,
        "Exception calling application: %s",
        ("Method not implemented!",),
        exc_info,
    )


def test_only_the_expected_probe_is_silenced() -> None:
    silence_expected_unimplemented()
    logger = logging.getLogger("grpc._server")
    assert not logger.filter(_record_of("AllocTimestamp"))
    assert logger.filter(_record_of("Search"))  # an unimplemented method that matters: still logged
    plain = logging.LogRecord("grpc._server", logging.ERROR, __file__, 1, "something else", (), None)
    assert logger.filter(plain)
