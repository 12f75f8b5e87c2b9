"""Silences one known, harmless error that Milvus Lite's in-process gRPC server logs.

pymilvus asks a server for a timestamp (`AllocTimestamp`) while it waits for a new index, and
expects older servers not to implement it (it wraps the call in `ignore_unimplemented`). Milvus
Lite's servicer inherits the generated stub, which raises `NotImplementedError`, so grpc logs
"Exception calling application: Method not implemented!" with a traceback, at ERROR, for every
index of every collection a start creates. Only that record is dropped: the same error from any
other method, and every other grpc error, are still logged.
"""

from __future__ import annotations

import logging
import traceback

_EXPECTED_UNIMPLEMENTED = frozenset({"AllocTimestamp"})
_STUBS = "milvus_pb2_grpc.py"


class _ExpectedUnimplemented(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        if not exc_info or exc_info[0] is not NotImplementedError or exc_info[2] is None:
            return True
        last = traceback.extract_tb(exc_info[2])[-1]
        return not (last.filename.endswith(_STUBS) and last.name in _EXPECTED_UNIMPLEMENTED)


def silence_expected_unimplemented() -> None:
    """Idempotent; on grpc's server logger, where those records come from."""
    logger = logging.getLogger("grpc._server")
    if not any(isinstance(f, _ExpectedUnimplemented) for f in logger.filters):
        logger.addFilter(_ExpectedUnimplemented())
