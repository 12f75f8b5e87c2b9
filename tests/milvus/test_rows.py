from __future__ import annotations

import pytest

from vlsearch.milvus.rows import locator_from_json, truncate_utf8
from vlsearch.types import Locator


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"page": 3},
        {"heading": ["维护", "电源"], "bbox": [1, 2.5, 3, 4], "index": 0},
        {"sheet": "Sheet1", "row_start": 4, "row_end": 9, "added_later": True},
        {"t_start": 12.0, "t_end": 13.5},
    ],
)
def test_fast_locator_equals_from_dict(data: dict | None) -> None:
    assert locator_from_json(data) == Locator.from_dict(data)


def test_truncate_utf8_never_splits_a_character() -> None:
    text = "a" + "电" * 10
    cut = truncate_utf8(text, 8)  # 1 + 2*3 = 7 bytes fit; the third character would straddle byte 8
    assert cut == "a电电"
    assert truncate_utf8("plain", 5) == "plain"
    assert truncate_utf8("emoji 😀", 7) == "emoji "
    assert len(truncate_utf8("电" * 30000, 65535).encode()) <= 65535
