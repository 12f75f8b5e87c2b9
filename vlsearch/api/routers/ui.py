"""The web UI: static pages of the app's own (no build step, no CDN: the machine may be offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

UI_DIR = Path(__file__).resolve().parent.parent / "ui"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(UI_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/rerank")
def rerank_page() -> FileResponse:
    return FileResponse(UI_DIR / "rerank.html", media_type="text/html; charset=utf-8")


@router.get("/documents")
def documents_page() -> FileResponse:
    return FileResponse(UI_DIR / "documents.html", media_type="text/html; charset=utf-8")


@router.get("/docs")
def api_docs() -> FileResponse:
    return FileResponse(UI_DIR / "docs.html", media_type="text/html; charset=utf-8")
