"""Serving stored originals so that no uploaded file ever runs in the app's origin.

An uploaded document is the uploader's content, and the uploader may be hostile: an HTML page, an
SVG or an XHTML file served inline from the app's origin could read the UI's local storage (the
API key) and call the API as whoever opens it. So:

- The response type comes from the content the ingest sniffed (`doc_type`, plus magic bytes for
  images and videos), never from the file name: `notes.svg` that sniffed as text is `text/plain`.
- Only passive types are shown inline (PDF, raster images, videos, plain text); everything else
  (HTML, Office files, anything unknown) is an attachment of type application/octet-stream.
- Every original carries `Content-Security-Policy: sandbox` (an opaque origin, no scripts, no
  plugins, no forms) and `X-Content-Type-Options: nosniff`. Chromium still renders PDFs there.

The UI cannot send its key with a top-level navigation, so it asks for a short-lived signed link
(`POST /v1/documents/{id}/original/link`, with the key) and opens that in a new window: the original
then loads as its own sandboxed document, never as a blob: URL of the app's origin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi.responses import FileResponse

from vlsearch.api.errors import ApiError
from vlsearch.api.files import original_file
from vlsearch.config import Settings
from vlsearch.types import Document

ORIGINAL_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
LINK_TTL_S = 300

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
)
_OFFICE = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Presentation:
    media_type: str
    inline: bool


def presentation(doc: Document, path: Path) -> Presentation:
    """How a stored original may be shown, from its sniffed type and its first bytes."""
    if doc.doc_type == "pdf":
        return Presentation("application/pdf", inline=True)
    if doc.doc_type in ("text", "markdown"):
        return Presentation("text/plain; charset=utf-8", inline=True)
    if doc.doc_type == "image":
        kind = _image_type(_head(path))
        if kind is not None:
            return Presentation(kind, inline=True)
    if doc.doc_type == "video":
        return Presentation(_video_type(_head(path)), inline=True)
    if doc.doc_type in _OFFICE:
        return Presentation(_OFFICE[doc.doc_type], inline=False)
    # html and anything not known to be passive: a download, never a page of this origin
    return Presentation("application/octet-stream", inline=False)


def original_response(settings: Settings, doc: Document) -> FileResponse:
    """The document's stored original (`original_file`: 404 when there is none to serve), typed and
    shown as `presentation` allows."""
    path = original_file(settings, doc)
    shown = presentation(doc, path)
    return FileResponse(
        path,
        media_type=shown.media_type,
        filename=doc.name,
        content_disposition_type="inline" if shown.inline else "attachment",
        headers={"Content-Security-Policy": ORIGINAL_CSP, "Cache-Control": "private, no-store"},
    )


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(16)


def _image_type(head: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "image/avif"
    return None


def _video_type(head: bytes) -> str:
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[4:8] == b"ftyp" and head[8:12] == b"qt  ":
        return "video/quicktime"
    return "video/mp4"


class OriginalLinks:
    """Short-lived signed links to one original, for a browser that cannot send its key.

    A link names the document and the groups of the caller who asked for it, expires after
    `ttl_s`, and is signed with a key made at start-up (links die with the process). Redeeming it
    checks the document against those groups again, so a link never shows more than its issuer
    could see at that moment."""

    def __init__(self, *, ttl_s: int = LINK_TTL_S, secret: bytes | None = None) -> None:
        self._secret = secret or os.urandom(32)
        self.ttl_s = ttl_s

    def issue(self, doc_id: str, groups: tuple[str, ...] | None, *, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.ttl_s)
        payload = json.dumps({"d": doc_id, "g": groups, "e": expires}, separators=(",", ":")).encode()
        body = _b64(payload)
        return f"{body}.{_b64(self._sign(body))}"

    def redeem(self, token: str, *, now: float | None = None) -> tuple[str, tuple[str, ...] | None]:
        body, _, signature = token.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._sign(body))
            payload = json.loads(_unb64(body)) if valid else None
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("d"), str):
            raise _bad_link()
        if int(payload.get("e", 0)) < (now if now is not None else time.time()):
            raise ApiError(
                "link_expired",
                "This link to an original has expired; open the document again from the UI.",
                status=410,
            )
        groups = payload.get("g")
        return payload["d"], tuple(groups) if isinstance(groups, list) else None

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_link() -> ApiError:
    return ApiError(
        "not_found", "No original for this link; open the document again from the UI.", status=404
    )
