"""Conversion between Items and Milvus rows, with the checks a row must pass before insert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from vlsearch.errors import InputRejectedError
from vlsearch.evidence.boxes import NO_LINES, LineBoxes
from vlsearch.milvus import schema
from vlsearch.milvus.filters import check_value, groups_key
from vlsearch.types import Item, Locator, Modality

# Key of the row's `locator` JSON that holds its line boxes (evidence.boxes). Kept in the locator so
# the collection layout is unchanged: rows written before it simply lack the key.
LINES_KEY = "lines"

# Rebuilding Items is the facade's main cost per search hit; these lookups avoid per-row
# enum construction and dataclass introspection.
_MODALITY = {m.value: m for m in Modality}
_LOCATOR_FIELDS = frozenset(f.name for f in fields(Locator))
_EMPTY_LOCATOR = Locator()


def locator_from_json(data: Mapping[str, Any] | None) -> Locator:
    """Same result as Locator.from_dict, about four times faster."""
    if not data:
        return _EMPTY_LOCATOR
    kwargs = {k: v for k, v in data.items() if k in _LOCATOR_FIELDS}
    heading = kwargs.get("heading")
    if heading is not None:
        kwargs["heading"] = tuple(heading)
    bbox = kwargs.get("bbox")
    if bbox is not None:
        kwargs["bbox"] = tuple(bbox)
    return Locator(**kwargs)


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut `text` to at most `max_bytes` UTF-8 bytes without splitting a character."""
    # Fast path: a string of n characters never needs more than 4n bytes.
    if len(text) * 4 <= max_bytes:
        return text
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    # errors="ignore" drops only the partial character left at the cut.
    return data[:max_bytes].decode("utf-8", errors="ignore")


def _media(value: str, item: Item, field: str) -> str:
    if len(value.encode("utf-8")) > schema.MEDIA_MAX:
        raise InputRejectedError(
            f"item {item.id}: {field} path is longer than {schema.MEDIA_MAX} bytes; use a shorter media path"
        )
    return value


def locator_json(item: Item, text: str | None = None) -> dict[str, Any]:
    """The row's `locator` JSON: the Locator's fields plus the line boxes that fit in `text` (the
    row's text as stored, which may be cut to its limit)."""
    out = item.locator.to_dict()
    if item.lines:
        lines = item.lines.within(len(item.text if text is None else text))
        if lines:
            out[LINES_KEY] = lines.to_json()
    return out


def item_row(item: Item, vector: list[float]) -> dict[str, Any]:
    """The row stored for `item`; ids, doc type and groups must pass the filter charset so the row
    can later be found, filtered and deleted."""
    check_value(item.id, "item id")
    check_value(item.doc_id, "document id")
    check_value(item.doc_type, "doc type")
    if len(item.groups) > schema.GROUPS_MAX:
        raise InputRejectedError(
            f"item {item.id} has {len(item.groups)} groups; at most {schema.GROUPS_MAX} are allowed"
        )
    groups = [check_value(g, "group") for g in item.groups]
    text = truncate_utf8(item.text, schema.TEXT_MAX)
    return {
        "id": item.id,
        "doc_id": item.doc_id,
        "modality": Modality(item.modality).value,
        "doc_type": item.doc_type,
        "name": truncate_utf8(item.name, schema.NAME_MAX),
        "source": truncate_utf8(item.source, schema.SOURCE_MAX),
        "text": text,
        "locator": locator_json(item, text),
        "groups": groups,
        "groups_key": groups_key(groups),
        "media": _media(item.media, item, "media"),
        "thumbnail": _media(item.thumbnail, item, "thumbnail"),
        "dense": vector,
    }


def row_item(row: Mapping[str, Any]) -> Item:
    """Rebuild an Item from a query row or a search hit's entity."""
    locator = row.get("locator")
    return Item(
        id=row["id"],
        doc_id=row["doc_id"],
        modality=_MODALITY[row["modality"]],
        text=row["text"],
        locator=locator_from_json(locator),
        source=row["source"],
        name=row["name"],
        doc_type=row["doc_type"],
        groups=tuple(row.get("groups") or ()),
        media=row.get("media") or "",
        thumbnail=row.get("thumbnail") or "",
        lines=LineBoxes.from_json(locator.get(LINES_KEY)) if isinstance(locator, Mapping) else NO_LINES,
    )
