"""Downloading rerank media URLs without letting a slow remote hold the server.

A remote that trickles one byte every few seconds never trips a per-read timeout. Run on the
request's worker thread, forty such requests took every thread of the pool, and health and search
stopped answering until the remote gave up. So URL media are fetched:

- on the event loop (httpx's async client), before the request's work goes to a worker thread:
  a waiting download holds no thread at all;
- under one total deadline per request (`VLSEARCH_MEDIA_URL_TIMEOUT_S`) covering the wait for a
  download slot, connecting, headers and the whole body: 504 naming the setting when it runs out;
- at most `VLSEARCH_MEDIA_URLS_PER_REQUEST` URLs per request (422) and at most
  `VLSEARCH_MEDIA_URL_FETCHES` downloads in flight over the whole server (the rest wait, within
  their deadline);
- only from allow-listed hosts, never following redirects, within the query-upload size limit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import anyio.from_thread
import httpx

from vlsearch.api.errors import ApiError, format_bytes
from vlsearch.api.schemas.rerank import RerankContent
from vlsearch.errors import PathNotAllowedError

_URL_SCHEMES = ("http://", "https://")


def media_urls(sides: Iterable[str | RerankContent]) -> list[str]:
    """The distinct http(s) URLs a rerank request names, in order."""
    urls: list[str] = []
    for side in sides:
        if isinstance(side, str):
            continue
        refs = [side.image] if isinstance(side.image, str) else list(side.image or [])
        refs += [r for r in (side.video, side.url) if r]
        urls += [r for r in refs if r.startswith(_URL_SCHEMES) and r not in urls]
    return urls


class MediaFetcher:
    """One per app: the server-wide download slots and the limits."""

    def __init__(
        self,
        *,
        hosts: Sequence[str],
        max_bytes: int,
        deadline_s: float,
        per_request: int,
        concurrency: int,
    ) -> None:
        self.hosts = tuple(h.lower() for h in hosts)
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self.per_request = per_request
        self.concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None  # made on the event loop, on first use

    async def fetch(self, urls: Sequence[str], folder: Path, *, what: str = "media") -> dict[str, Path]:
        """Download every URL into `folder`; all of them within one deadline. {url: file}."""
        if not urls:
            return {}
        if len(urls) > self.per_request:
            raise ApiError(
                "invalid_request",
                f"{len(urls)} media URLs in one request, over the limit of {self.per_request} "
                "(VLSEARCH_MEDIA_URLS_PER_REQUEST); upload the files instead or split the request",
                status=422,
            )
        for url in urls:
            self._check(url, what=what)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        fetched: dict[str, Path] = {}
        try:
            async with asyncio.timeout(self.deadline_s):
                # one after another: the deadline is the request's, and nothing outlives a failure
                for url in urls:
                    fetched[url] = await self._fetch_one(url, folder, what=what)
        except TimeoutError:
            raise ApiError(
                "fetch_timeout",
                f"{what} URLs did not arrive within {self.deadline_s:g} s (VLSEARCH_MEDIA_URL_TIMEOUT_S); "
                "the remote is too slow: upload the files instead",
                status=504,
            ) from None
        return fetched

    def fetch_blocking(self, url: str, folder: Path, *, what: str = "media") -> Path:
        """For code on a worker thread that did not fetch first: the same limits, on the event loop
        (the thread waits, at most the deadline)."""
        fetched = anyio.from_thread.run(partial(self.fetch, [url], folder, what=what))
        return fetched[url]

    def _check(self, url: str, *, what: str) -> None:
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            raise ApiError(
                "invalid_request",
                f"{what} URL {url[:80]!r} contains whitespace or control characters; percent-encode them",
                status=422,
            )
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError as exc:
            raise _invalid(url, what, exc) from exc
        if host not in self.hosts:
            hint = f"allowed hosts: {', '.join(self.hosts)}" if self.hosts else "no hosts are allowed"
            raise PathNotAllowedError(
                f"{what} URL host {host!r} is not on the media URL allow-list ({hint}); "
                "upload the file instead or ask the operator to allow the host"
            )

    async def _fetch_one(self, url: str, folder: Path, *, what: str) -> Path:
        assert self._slots is not None
        target = folder / f"url-{uuid.uuid4().hex[:12]}{Path(urlsplit(url).path).suffix[:8]}"
        async with self._slots:
            try:
                # No redirects: a redirect could lead to a host that is not allowed.
                async with (
                    httpx.AsyncClient(follow_redirects=False, timeout=self.deadline_s) as client,
                    client.stream("GET", url) as resp,
                ):
                    if resp.status_code != 200:
                        raise ApiError(
                            "fetch_failed", f"{what} URL answered HTTP {resp.status_code}: {url}", status=422
                        )
                    size = 0
                    with target.open("wb") as out:
                        async for chunk in resp.aiter_bytes():
                            size += len(chunk)
                            if size > self.max_bytes:
                                raise ApiError(
                                    "body_too_large",
                                    f"{what} URL body is over the query_upload limit of "
                                    f"{format_bytes(self.max_bytes)}",
                                    status=413,
                                )
                            out.write(chunk)
            except httpx.InvalidURL as exc:
                raise _invalid(url, what, exc) from exc
            except httpx.HTTPError as exc:
                raise ApiError("fetch_failed", f"{what} URL could not be fetched: {exc}", status=422) from exc
        return target


def _invalid(url: str, what: str, exc: Exception) -> ApiError:
    return ApiError("invalid_request", f"{what} URL {url[:80]!r} is not a valid URL: {exc}", status=422)
