"""GET /v1/media/{item_id}: thumbnails, stored images and source videos, only for callers who may see them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from vlsearch.api.deps import CallerDep, StateDep
from vlsearch.api.errors import not_found
from vlsearch.api.files import item_file
from vlsearch.api.originals import original_response
from vlsearch.api.schemas.common import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["media"], responses=ERROR_RESPONSES)


@router.get(
    "/media/{item_id}", response_class=FileResponse, summary="A result's thumbnail, image or original"
)
def get_media(
    item_id: str,
    state: StateDep,
    caller: CallerDep,
    kind: Annotated[Literal["thumbnail", "image", "original"], Query()] = "thumbnail",
) -> FileResponse:
    runtime = state.runtime
    items = runtime.store.get([item_id])
    if not items or not caller.can_see(items[0].groups):
        raise not_found("item", item_id)
    item = items[0]
    if kind == "original":
        record = runtime.catalog.get_document(item.doc_id)
        if record is None or not caller.can_see(record.document.groups):
            raise not_found("item", item_id)
        return original_response(runtime.settings, record.document)
    path = item_file(runtime.settings, item, kind)
    # Thumbnails are immutable per item id (ids change with content), so let browsers cache them.
    return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})
