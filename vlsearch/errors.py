"""Error types that carry a message telling the user what to change."""

from __future__ import annotations


class VlsearchError(Exception):
    """Base class; `code` is the stable machine-readable name used by the API error envelope."""

    code = "error"
    http_status = 400


class InputRejectedError(VlsearchError):
    """Bad input for one file or request: corrupt, unsupported, oversize, outside allowed roots."""

    code = "input_rejected"


class UnsupportedTypeError(InputRejectedError):
    code = "unsupported_type"
    http_status = 415


class TooLargeError(InputRejectedError):
    code = "too_large"
    http_status = 413


class ExtractionError(InputRejectedError):
    code = "extraction_failed"
    http_status = 422


class PathNotAllowedError(InputRejectedError):
    code = "path_not_allowed"
    http_status = 403


class NotFoundError(VlsearchError):
    code = "not_found"
    http_status = 404


class EmbedderMismatchError(VlsearchError):
    code = "embedder_mismatch"
    http_status = 409


class StoreUnavailableError(VlsearchError):
    code = "store_unavailable"
    http_status = 503


class ModelUnavailableError(VlsearchError):
    code = "model_unavailable"
    http_status = 503
