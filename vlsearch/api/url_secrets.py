"""Keys never travel in URLs, and URLs never carry secrets into the access log.

The server reads keys only from headers. A client that puts one in the query string
(`?api_key=...`) has it written to the access log, proxies' logs and browser history, where it
outlives the request. Such requests are refused before any route runs (400, telling the client to
use the header and to rotate the key), and the access log shows those parameters, and the tokens
of signed original links (`/v1/originals/<token>`), as `***`.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from vlsearch.api.asgi import HttpMiddleware
from vlsearch.api.errors import error_response

SECRET_PARAMS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "x_api_key",
        "key",
        "token",
        "access_token",
        "auth",
        "authorization",
        "bearer",
        "password",
        "secret",
    }
)
_PARAM = re.compile(r"(?P<name>[^&=?#]+)=(?P<value>[^&#]*)")
_LINK = re.compile(r"(/v1/originals/)[^/?#\s]+")


def secret_names(query_string: str) -> list[str]:
    return sorted(
        {k for k, _ in parse_qsl(query_string, keep_blank_values=True) if k.lower() in SECRET_PARAMS}
    )


def redact(path_and_query: str) -> str:
    path, sep, query = path_and_query.partition("?")
    path = _LINK.sub(r"\1***", path)
    if not sep:
        return path

    def hide(match: re.Match[str]) -> str:
        name = match.group("name")
        return f"{name}=***" if name.lower() in SECRET_PARAMS else match.group(0)

    return f"{path}?{_PARAM.sub(hide, query)}"


class UrlSecretsMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        names = secret_names(scope.get("query_string", b"").decode("latin-1"))
        if names:
            response = error_response(
                400,
                "credentials_in_url",
                f"Keys are never read from the URL (found: {', '.join(names)}); send the key as "
                "'X-API-Key: <key>' or 'Authorization: Bearer <key>'. A key that was in a URL may be "
                "in logs and browser history: have it replaced.",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class AccessLogRedactor(logging.Filter):
    """On uvicorn's access logger: its record args are (client, method, path+query, http, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install_access_log_redaction(logger_name: str = "uvicorn.access") -> None:
    """Idempotent. uvicorn's logging setup keeps a logger's filters, so it may run before it."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, AccessLogRedactor) for f in logger.filters):
        logger.addFilter(AccessLogRedactor())
