"""Export/import (vlsearch export / import) carries a row's line boxes: import reads an exported
row with row_item, as it reads a Milvus row."""

from __future__ import annotations

import json

from vlsearch.evidence.boxes import LineBoxes
from vlsearch.milvus.rows import row_item
from vlsearch.ops.backup import _item_dict
from vlsearch.types import Item, Locator, Modality


def test_an_exported_row_keeps_its_lines() -> None:
    item = Item(
        id="i1",
        doc_id="d1",
        modality=Modality.IMAGE,
        text="caption\n\nSerial SN-1",
        locator=Locator(page=2),
        source="s",
        name="n.pdf",
        doc_type="pdf",
        groups=("g",),
        media="media/d1/i1.png",
        lines=LineBoxes.pack([(9, 20, (0.1, 0.2, 0.5, 0.25))]),
    )
    back = row_item(json.loads(json.dumps(_item_dict(item))))
    assert back == item and back.lines.rows() == item.lines.rows()
    assert row_item(json.loads(json.dumps({**_item_dict(item), "locator": {"page": 2}}))).lines == LineBoxes()
