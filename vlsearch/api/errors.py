"""The one error envelope: every failure leaves the API as {"error": {"code", "message", "detail"}}."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vlsearch.errors import StoreUnavailableError, VlsearchError

log = logging.getLogger("vlsearch.api")


class ApiError(VlsearchError):
    """An API-level failure with an explicit code and status (auth, limits, missing resources)."""

    def __init__(self, code: str, message: str, *, status: int, detail: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = status
        self.detail = detail


class UnauthorizedError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__("unauthorized", message, status=401)


class BodyTooLargeError(StarletteHTTPException):
    """Raised while the body streams in. An HTTPException so FastAPI's body parsing re-raises it as is."""

    def __init__(self, *, limit_name: str, limit_bytes: int) -> None:
        super().__init__(
            413,
            f"Request body exceeds the {limit_name} limit of {format_bytes(limit_bytes)}; "
            "send a smaller file or split the upload.",
        )
        self.error_code = "body_too_large"
        self.error_detail = {"limit": limit_name, "limit_bytes": limit_bytes}


def not_found(what: str, ident: str) -> ApiError:
    # Same answer for "absent" and "not visible to your groups": existence must not leak.
    return ApiError("not_found", f"No {what} with id {ident!r} is visible to this caller.", status=404)


def forbidden(message: str) -> ApiError:
    """A caller who may not do this at all (no key where one is needed, a role or group missing)."""
    return ApiError("forbidden", message, status=403)


def format_bytes(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} bytes"


def envelope(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def error_response(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="vlsearch"'} if status == 401 else None
    return JSONResponse(envelope(code, message, detail), status_code=status, headers=headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid request — fix these fields: " + "; ".join(parts) + more


def _http_code(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        415: "unsupported_media_type",
        422: "invalid_request",
        429: "too_many_requests",
        503: "unavailable",
    }.get(status, "http_error")


def install_error_handlers(app: FastAPI, *, private_paths: Sequence[Path] = ()) -> None:
    """`private_paths`: server folders (the data dir) no error message may show a caller; a
    library's error text that names a file there shows `<data dir>` instead."""
    hidden = sorted({str(p) for p in private_paths if str(p) not in ("", "/", ".")}, key=len, reverse=True)

    def scrub(message: str) -> str:
        for path in hidden:
            message = message.replace(path, "<data dir>")
        return message

    @app.exception_handler(VlsearchError)
    async def _vlsearch_error(request: Request, exc: VlsearchError) -> JSONResponse:
        status = int(getattr(exc, "http_status", 400))
        if status >= 500:
            log.warning("%s %s failed: %s: %s", request.method, request.url.path, exc.code, exc)
        message = scrub(str(exc) or exc.code)
        if isinstance(exc, StoreUnavailableError):
            message = (
                f"Milvus is unavailable ({message}). Check that it is running and that "
                "VLSEARCH_MILVUS_URI points to it; the server reconnects on a later request."
            )
        return error_response(status, exc.code, scrub(message), getattr(exc, "detail", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return error_response(422, "invalid_request", _validation_message(errors), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else _http_code(exc.status_code)
        if exc.status_code == 404 and message == "Not Found":
            message = f"No route {request.method} {request.url.path}; see /docs for the API."
        code = getattr(exc, "error_code", None) or _http_code(exc.status_code)
        return error_response(exc.status_code, code, message, getattr(exc, "error_detail", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal_error", f"Internal error ({type(exc).__name__}); see the server log for details."
        )
