"""Security headers on every response: the UI's strict CSP, a locked-down CSP for everything else,
`nosniff`, no referrers, and no cross-origin embedding of what the server returns.

The UI pages are the only documents of the app's origin meant to run script; they get a policy that
allows only the app's own scripts and styles (no inline script, no eval), so even markup injected
into a page could not run. Every other response (JSON, media, originals) gets `sandbox` and
`default-src 'none'`: a browser that is made to navigate to it renders it in an opaque origin that
can read nothing of the app's (local storage, the API key) and load nothing. Routes that set their
own Content-Security-Policy (stored originals) keep it.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from vlsearch.api.asgi import HttpMiddleware

UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
LOCKED_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"

_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    # signed original links carry a token in the path; no page may pass URLs on as a Referer
    (b"referrer-policy", b"no-referrer"),
    # other sites may not embed our images, videos or JSON with <img>/<video>/<script> tags
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeadersMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in _ALWAYS:
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", _policy_for(headers).encode("ascii")))
                if _is_html(headers) and b"cross-origin-opener-policy" not in present:
                    # a window the UI opens cannot reach back into the UI's window, nor it into them
                    headers.append((b"cross-origin-opener-policy", b"same-origin"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"text/html"
    return False


def _policy_for(headers: list[tuple[bytes, bytes]]) -> str:
    # Only the app's own HTML pages (the UI, served from vlsearch/api/ui) are text/html without a
    # policy of their own; stored originals always set theirs (vlsearch.api.originals).
    return UI_CSP if _is_html(headers) else LOCKED_CSP
