"""Request body limits, enforced while the body streams in (413 names the limit that was hit)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vlsearch.api.errors import BodyTooLargeError, error_response
from vlsearch.config import Settings

MIB = 1 << 20
RERANK_JSON_PATHS = frozenset({"/v1/rerank", "/v2/rerank", "/v1/rerank/process"})


@dataclass(frozen=True)
class ApiLimits:
    json_bytes: int = 2 * MIB  # JSON bodies (search, documents, models)
    rerank_json_bytes: int = 24 * MIB  # JSON rerank bodies: Cohere/Jina clients send images as data: URIs
    query_upload_bytes: int = 64 * MIB  # search / rerank with uploaded media
    document_upload_bytes: int = 800 * MIB  # one POST /v1/documents (several files)
    file_bytes: int = 200 * MIB  # any one uploaded document
    files_per_upload: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiLimits:
        file_bytes = settings.max_file_mb * MIB
        return cls(
            query_upload_bytes=min(file_bytes, 64 * MIB),
            document_upload_bytes=4 * file_bytes,
            file_bytes=file_bytes,
        )

    def for_request(self, method: str, path: str, content_type: str) -> tuple[str, int]:
        if method == "POST" and path.rstrip("/") == "/v1/documents":
            return "document_upload", self.document_upload_bytes
        if content_type.startswith("multipart/"):
            return "query_upload", self.query_upload_bytes
        if method == "POST" and path.rstrip("/") in RERANK_JSON_PATHS:
            return "rerank_json", self.rerank_json_bytes
        return "json_body", self.json_bytes


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: ApiLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        name, limit = self.limits.for_request(scope["method"], scope["path"], headers.get("content-type", ""))
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            exc = BodyTooLargeError(limit_name=name, limit_bytes=limit)
            response = error_response(413, exc.error_code, str(exc.detail), exc.error_detail)
            # The client may still be sending; tell it the connection will not be reused.
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return

        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit_name=name, limit_bytes=limit)
            return message

        await self.app(scope, counting_receive, send)
