"""The web UI: static pages of the app's own (no build step, no CDN: the machine may be offline)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

UI_DIR = Path(__file__).resolve().parent.parent / "ui"

# URL path -> the page's file in UI_DIR (its scripts and styles are served under /ui)
PAGES = {
    "/": "index.html",
    "/rerank": "rerank.html",
    "/documents": "documents.html",
    "/docs": "docs.html",
}

router = APIRouter(include_in_schema=False)


def _page(file: str) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        return FileResponse(UI_DIR / file, media_type="text/html; charset=utf-8")

    return page


for _path, _file in PAGES.items():
    router.add_api_route(_path, _page(_file), methods=["GET"], name=_file.removesuffix(".html"))
