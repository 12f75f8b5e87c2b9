from __future__ import annotations

import pytest

from vlsearch.errors import InputRejectedError
from vlsearch.milvus.filters import MATCH_NOTHING, build_filter, doc_filter, groups_key, ids_filter
from vlsearch.types import Modality, SearchFilter

# Each tries to close the quoted literal or the list and add a clause of its own.
EVIL = (
    '" or 1==1 or doc_id=="',
    'x"] or doc_id != "',
    "x' or '1'=='1",
    'a\\"',
    "a\\",
    "a]",
    "[a",
    "a) or (1==1",
    "a\nor 1==1",
    "a b",
    "“x” or 1==1",  # curly quotes
    "＂x＂",  # fullwidth quote
    "ｅｎｇ",  # fullwidth letters that look like a valid group
    "é",
    "",
    "x" * 129,
    "a,b",
    "a%",
    "a*",
    "a\x00",
)


def test_empty_filter_is_no_restriction() -> None:
    assert build_filter(SearchFilter()) == ""


def test_clauses_are_quoted_and_joined_with_and() -> None:
    expr = build_filter(
        SearchFilter(
            doc_types=("pdf", "docx"),
            modalities=(Modality.TEXT,),
            doc_ids=("d1",),
            groups=("eng", "a_b", "eng"),
        )
    )
    assert expr == (
        '(doc_type in ["pdf", "docx"]) and (modality in ["text"]) and (doc_id in ["d1"]) and '
        '(groups_key like "%|656e67|%" or groups_key like "%|615f62|%")'
    )


def test_groups_key_is_hex_between_bars() -> None:
    assert groups_key(("ops", "eng", "ops")) == "|656e67|6f7073|"
    assert groups_key(()) == "|"
    with pytest.raises(InputRejectedError):
        groups_key(("ok", "bad group"))


def test_empty_groups_match_nothing_whatever_else_is_set() -> None:
    assert build_filter(SearchFilter(groups=())) == MATCH_NOTHING
    assert build_filter(SearchFilter(doc_types=("pdf",), groups=())) == MATCH_NOTHING


@pytest.mark.parametrize("value", EVIL)
@pytest.mark.parametrize("field", ["doc_types", "doc_ids", "groups"])
def test_unsafe_values_are_rejected(field: str, value: str) -> None:
    with pytest.raises(InputRejectedError, match="invalid"):
        build_filter(SearchFilter(**{field: ("ok", value)}))  # type: ignore[arg-type]


def test_non_string_values_are_rejected() -> None:
    with pytest.raises(InputRejectedError):
        build_filter(SearchFilter(doc_ids=(123,)))  # type: ignore[arg-type]
    with pytest.raises(InputRejectedError, match="modality"):
        build_filter(SearchFilter(modalities=('text"] or 1==1',)))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", EVIL)
def test_id_and_doc_helpers_reject_unsafe_values(value: str) -> None:
    with pytest.raises(InputRejectedError):
        ids_filter(["ok", value])
    with pytest.raises(InputRejectedError):
        doc_filter(value)


def test_ids_filter_needs_ids() -> None:
    with pytest.raises(ValueError):
        ids_filter([])
