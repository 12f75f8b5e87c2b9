"""Protection for the open (no API keys) loopback mode against other web sites in the user's browser.

Without keys anyone who can reach the port is trusted, which is why the server then binds loopback
only. Two browser tricks would still reach it: DNS rebinding (a page on evil.example whose name
resolves to 127.0.0.1; its requests carry `Host: evil.example`) and cross-site "simple" requests
(a form POST from another origin, which needs no CORS preflight). The first is refused by requiring
a loopback Host header, the second by refusing state-changing requests whose Origin or
Sec-Fetch-Site says they come from another site. With API keys configured neither applies: the key
travels in a header that a foreign page cannot set without a CORS preflight, which is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from vlsearch.api.asgi import HttpMiddleware
from vlsearch.api.auth import is_loopback
from vlsearch.api.errors import error_response

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _host_of(value: str) -> str:
    return urlsplit(f"//{value}").hostname or ""


class LoopbackGuardMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = _host_of(headers.get("host", ""))
        if not is_loopback(host):
            response = error_response(
                421,
                "foreign_host",
                f"Host {host or '(none)'!r} is not this loopback server; open it as http://127.0.0.1 "
                "or configure API keys to serve other names",
            )
            await response(scope, receive, send)
            return
        if scope.get("method") not in _SAFE_METHODS and self._cross_site(headers):
            response = error_response(
                403,
                "cross_site_request",
                "requests from another web site may not change this server; use the vlsearch UI, "
                "the CLI or an API client",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _cross_site(headers: dict[str, str]) -> bool:
        if headers.get("sec-fetch-site", "") == "cross-site":
            return True
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return origin == "null"
        return not is_loopback(urlsplit(origin).hostname or "")
