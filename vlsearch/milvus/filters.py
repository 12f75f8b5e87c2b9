"""The only place Milvus boolean expressions are built.

Milvus Lite 3.x has no `filter_params` templates, so every value that reaches an expression is
first checked against a strict character set that cannot contain a quote, backslash, bracket,
whitespace or operator; only then is it wrapped in double quotes. A value outside the set is
rejected, never escaped: escaping rules differ between Milvus versions, a whitelist does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vlsearch.errors import InputRejectedError
from vlsearch.types import Modality, SearchFilter

# ASCII only on purpose: `\w` would admit unicode look-alikes of quotes and operators.
_SAFE = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")

# Evaluates to false for every row (no array is non-empty and contains nothing); used when the
# caller belongs to no group. The Store skips the round trip when it sees this exact expression.
MATCH_NOTHING = "array_contains_any(groups, [])"


def check_value(value: object, what: str) -> str:
    """Return `value` if it is a safe identifier, else raise InputRejectedError naming the field."""
    if not isinstance(value, str) or _SAFE.fullmatch(value) is None:
        raise InputRejectedError(f"invalid {what} {value!r}: use 1-128 characters from A-Z a-z 0-9 _ . : @ -")
    return value


def _quoted_list(values: Iterable[str], what: str) -> str:
    return "[" + ", ".join(f'"{check_value(v, what)}"' for v in values) + "]"


def _modality(value: object) -> str:
    try:
        return Modality(str(value)).value
    except ValueError:
        allowed = ", ".join(m.value for m in Modality)
        raise InputRejectedError(f"invalid modality {value!r}: use one of {allowed}") from None


def build_filter(flt: SearchFilter, *, groups_array: bool = False) -> str:
    """Turn a SearchFilter into a Milvus expression ("" = no restriction).

    `groups_array`: match the caller's groups with array_contains_any on the `groups` ARRAY (a
    Milvus server, INVERTED-indexed) rather than LIKE on its `groups_key` twin (Milvus Lite, which
    can neither index an ARRAY nor evaluate one but row by row in Python). Same rows either way."""
    if flt.groups is not None and len(flt.groups) == 0:
        return MATCH_NOTHING
    clauses: list[str] = []
    if flt.doc_types:
        clauses.append(f"doc_type in {_quoted_list(flt.doc_types, 'doc type')}")
    if flt.modalities:
        modalities = [_modality(m) for m in flt.modalities]
        clauses.append(f"modality in {_quoted_list(modalities, 'modality')}")
    if flt.doc_ids:
        clauses.append(f"doc_id in {_quoted_list(flt.doc_ids, 'document id')}")
    if flt.groups:
        groups = list(dict.fromkeys(flt.groups))
        if groups_array:
            clauses.append(f"array_contains_any(groups, {_quoted_list(groups, 'group')})")
        else:
            clauses.append(" or ".join(_group_match(g) for g in groups))
    return " and ".join(f"({c})" for c in clauses)


def groups_key(groups: Iterable[str]) -> str:
    """The `groups_key` column for a row: "|" + hex of each group + "|" ("|" for no group).

    Hex keeps LIKE's wildcards (`_`, `%`) out of the pattern, so a group can only match itself."""
    return "|" + "".join(check_value(g, "group").encode("ascii").hex() + "|" for g in sorted(set(groups)))


def _group_match(group: str) -> str:
    return f'groups_key like "%|{check_value(group, "group").encode("ascii").hex()}|%"'


def ids_filter(ids: Iterable[str]) -> str:
    """Rows whose primary key is one of `ids` (at least one id)."""
    values = list(ids)
    if not values:
        raise ValueError("ids_filter needs at least one id")
    return f"id in {_quoted_list(values, 'item id')}"


def doc_filter(doc_id: str) -> str:
    """Rows of one document."""
    return f'doc_id == "{check_value(doc_id, "document id")}"'
