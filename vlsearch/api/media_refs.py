"""Turning rerank media references into local files the reranker may read.

Accepted: 'upload:<name>' (a file sent in the same multipart request), an http(s) URL from an
allow-listed host (downloaded by vlsearch.api.media_fetch, never fetched by the model code), a base64
data: URI (decoded here under the same size limit; the bytes must be an image or a video), a local
path under the allowed roots (only with auth off: a key holder must not probe files by path), and
references to ingested media by item_id / doc_id, checked against the caller's groups.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from vlsearch.api.auth import Caller
from vlsearch.api.errors import ApiError, format_bytes, not_found
from vlsearch.api.files import data_file, inside, original_file
from vlsearch.api.schemas.rerank import RerankContent
from vlsearch.api.state import ApiState
from vlsearch.errors import PathNotAllowedError, VlsearchError
from vlsearch.ingest.sniff import sniff
from vlsearch.models.base import RerankInput
from vlsearch.models.qwen3vl.inputs import VIDEO_SUFFIXES
from vlsearch.types import Modality


class MediaResolver:
    def __init__(
        self,
        *,
        state: ApiState,
        caller: Caller,
        folder: Path,
        uploads: Mapping[str, Path] | None = None,
        fetched: Mapping[str, Path] | None = None,
    ) -> None:
        self._state = state
        self._caller = caller
        self._folder = folder
        self._uploads = dict(uploads or {})
        self._fetched = dict(fetched or {})  # URL -> file, downloaded by MediaFetcher.fetch

    def side(self, content: str | RerankContent) -> RerankInput:
        """A query or document as the reranker's input: text, images (paths), video (path)."""
        if isinstance(content, str):
            return RerankInput(text=content)
        texts: list[str] = []
        images: list[str] = []
        video: str | None = None
        if content.item_id:
            item_text, item_image = self._item(content.item_id)
            texts.append(item_text)
            if item_image:
                images.append(item_image)
        if content.doc_id:
            kind, path = self._document(content.doc_id)
            if kind == "video":
                video = path
            else:
                images.append(path)
        if content.text:
            texts.append(content.text)
        raw_images = [content.image] if isinstance(content.image, str) else list(content.image or [])
        images.extend(self.ref(ref, what="image") for ref in raw_images)
        if content.url:  # Jina's field: an image, or a video when its path says so
            if Path(urlsplit(content.url).path).suffix.lower() in VIDEO_SUFFIXES:
                if content.video or video is not None:
                    raise ApiError("invalid_request", "give one video per query or document", status=422)
                video = self.ref(content.url, what="video")
            else:
                images.append(self.ref(content.url, what="image"))
        if content.video:
            if video is not None:
                raise ApiError("invalid_request", "give one video per query or document", status=422)
            video = self.ref(content.video, what="video")
        return RerankInput(
            text="\n".join(t for t in texts if t) or None,
            image=images or None,
            video=video,
        )

    def ref(self, ref: str, *, what: str) -> str:
        if ref.startswith("upload:"):
            name = ref.removeprefix("upload:")
            if name not in self._uploads:
                sent = ", ".join(sorted(self._uploads)) or "none"
                raise ApiError(
                    "invalid_request",
                    f"{what} {ref!r}: no uploaded file named {name!r} in this request (files sent: {sent})",
                    status=422,
                )
            return str(self._uploads[name])
        if ref.startswith(("http://", "https://")):
            if ref in self._fetched:
                return str(self._fetched[ref])
            # not fetched ahead on the event loop (vlsearch.api.media_fetch): same limits, this thread waits
            return str(self._state.fetcher.fetch_blocking(ref, self._folder, what=what))
        if ref.startswith("data:"):
            return str(self._data_uri(ref, what=what))
        if "://" in ref:
            raise ApiError(
                "invalid_request",
                f"{what} {ref[:80]!r}: unsupported reference; "
                "use upload:<name>, an http(s) URL, a data: URI or item_id/doc_id",
                status=422,
            )
        return str(self._local_path(ref, what=what))

    def _data_uri(self, ref: str, *, what: str) -> Path:
        header, sep, payload = ref.partition(",")
        if not sep or not header.endswith(";base64"):
            raise ApiError(
                "invalid_request", f"{what} data: URI must be base64 (data:<type>;base64,<data>)", status=422
            )
        limit = self._state.limits.query_upload_bytes
        if len(payload) * 3 // 4 > limit:
            raise ApiError(
                "body_too_large",
                f"{what} data: URI is over the query_upload limit of {format_bytes(limit)}",
                status=413,
            )
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(
                "invalid_request", f"{what} data: URI is not valid base64 ({exc})", status=422
            ) from exc
        subtype = header.removeprefix("data:").removesuffix(";base64").partition("/")[2]
        suffix = "." + subtype if subtype.isalnum() and len(subtype) <= 5 else ".bin"
        target = self._folder / f"data-{uuid.uuid4().hex[:12]}{suffix}"
        target.write_bytes(data)
        try:
            kind = sniff(target)
        except VlsearchError as exc:
            kind = str(exc)
        if kind not in ("image", "video"):
            target.unlink()
            raise ApiError(
                "invalid_request", f"{what} data: URI is not an image or a video ({kind})", status=422
            )
        if kind == "video" and target.suffix.lower() not in VIDEO_SUFFIXES:
            target = target.rename(target.with_suffix(".mp4"))  # the reranker tells videos by suffix
        return target

    # -- references to ingested media ------------------------------------------------------
    def _item(self, item_id: str) -> tuple[str, str | None]:
        items = self._state.runtime.store.get([item_id])
        if not items or not self._caller.can_see(items[0].groups):
            raise not_found("item", item_id)
        item = items[0]
        # a text row's media is its page preview, shown with hits; the row itself is text
        image = (
            str(data_file(self._state.runtime.settings, item.media))
            if item.media and item.modality is not Modality.TEXT
            else None
        )
        return item.text, image

    def _document(self, doc_id: str) -> tuple[str, str]:
        record = self._state.runtime.catalog.get_document(doc_id)
        if record is None or not self._caller.can_see(record.document.groups):
            raise not_found("document", doc_id)
        doc = record.document
        if doc.doc_type not in ("image", "video"):
            raise ApiError(
                "invalid_request",
                f"doc_id {doc_id!r} is a {doc.doc_type} document; doc_id works for image and video "
                "documents, use item_id for a passage or page",
                status=422,
            )
        return doc.doc_type, str(original_file(self._state.runtime.settings, doc))

    # -- paths and URLs --------------------------------------------------------------------
    def _local_path(self, ref: str, *, what: str) -> Path:
        if not self._caller.unrestricted:
            raise PathNotAllowedError(
                f"{what} {ref!r}: server paths are accepted only when auth is off; "
                "upload the file (upload:<name>) or reference ingested media by item_id/doc_id"
            )
        roots = self._state.runtime.settings.resolved_allowed_roots
        path = Path(ref).expanduser().resolve()
        if not any(inside(path, root) for root in roots):
            allowed = ", ".join(str(r) for r in roots)
            raise PathNotAllowedError(
                f"{what} {ref!r} is outside the allowed roots ({allowed}); add its folder to "
                "VLSEARCH_ALLOWED_ROOTS or upload the file"
            )
        if not path.is_file():
            raise ApiError("not_found", f"{what} {ref!r}: no such file", status=404)
        return path
