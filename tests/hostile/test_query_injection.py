"""Query texts full of Milvus expression syntax are search data, never filter expressions: they
cannot widen the caller's groups, and hostile filter values are refused before reaching Milvus."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.demo.writers import Doc, Heading, Para, write_docx
from vlsearch.errors import InputRejectedError
from vlsearch.runtime import Runtime
from vlsearch.types import Modality, Query, SearchFilter

HOSTILE_TEXTS = (
    'salary" or 1==1 or "',
    "salary' or 1==1 --",
    'x"] or groups != [] or doc_id in ["',
    '") or array_contains_any(groups, ["hr"]) or ("',
    'salary \\" or true or \\"',
    "salary “HR-77” or 1==1",  # unicode quotes
    "salary ‘band’ || true",
    "salary band HR-77 ]] )) }} [[ ((",
    'doc_type in ["docx"] and id like "%"',
    "salary\x00band",
    "salary % _ * ? \\ /",
    "not (groups == []) or true",
)


@pytest.fixture(scope="module")
def docs(runtime: Runtime, root: Path) -> dict[str, str]:
    secret = write_docx(
        root / "salary_bands.docx",
        Doc(
            title="Salary bands", blocks=(Heading("Salary bands"), Para("Salary band HR-77 is confidential."))
        ),
    )
    public = write_docx(
        root / "pump_care.docx",
        Doc(
            title="Pump care",
            blocks=(Heading("Pump care"), Para("Salary of effort: grease pump P-7 monthly.")),
        ),
    )
    out = {}
    for path, groups in ((secret, ("hr",)), (public, ("ops",))):
        result = runtime.pipeline.ingest_paths([path], groups=groups).results[0]
        assert result.status == "ingested" and result.doc_id
        out[path.name] = result.doc_id
    return out


def _hits(runtime: Runtime, text: str, flt: SearchFilter) -> list[tuple[str, tuple[str, ...]]]:
    result = runtime.search.search(Query(text=text, top_k=10, rerank=False, filters=flt, per_doc_limit=0))
    return [(hit.item.name, hit.item.groups) for hit in result.hits]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_cannot_widen_groups(runtime: Runtime, docs: dict[str, str], text: str) -> None:
    hits = _hits(runtime, text, SearchFilter(groups=("ops",)))
    assert all("ops" in groups for _, groups in hits), hits
    assert "salary_bands.docx" not in {name for name, _ in hits}
    assert _hits(runtime, text, SearchFilter(groups=())) == []  # no groups: nothing, whatever the text


def test_hostile_text_is_matched_as_words(runtime: Runtime, docs: dict[str, str]) -> None:
    """The same texts find the secret document for a caller in its group: they were searched as data."""
    for text in ('salary" or 1==1 or "', "salary “HR-77” or 1==1", "salary band HR-77 ]] )) }} [[ (("):
        names = [name for name, _ in _hits(runtime, text, SearchFilter(groups=("hr",)))]
        assert names and names[0] == "salary_bands.docx", (text, names)


@pytest.mark.parametrize(
    "flt",
    [
        SearchFilter(groups=('ops"] or 1==1 or groups in ["',)),
        SearchFilter(groups=("ops", "hr” or “1")),
        SearchFilter(doc_types=('docx" or doc_type != "',), groups=("ops",)),
        SearchFilter(doc_ids=('x"] or id like "%',), groups=("ops",)),
    ],
)
def test_hostile_filter_values_are_refused(runtime: Runtime, docs: dict[str, str], flt: SearchFilter) -> None:
    with pytest.raises(InputRejectedError, match="invalid"):
        runtime.search.search(Query(text="salary band", top_k=5, rerank=False, filters=flt))


def test_hostile_modality_never_reaches_milvus(runtime: Runtime, docs: dict[str, str]) -> None:
    # The Searcher maps modalities to collections before building the filter, so a bad value stops
    # there (a ValueError today; the API's schema only admits Modality values, so callers get a 422)
    flt = SearchFilter(modalities=("text) or (1==1",), groups=("ops",))  # type: ignore[arg-type]
    with pytest.raises((InputRejectedError, ValueError), match="text\\) or \\(1==1"):
        runtime.search.search(Query(text="salary band", top_k=5, rerank=False, filters=flt))


def test_filters_only_narrow(runtime: Runtime, docs: dict[str, str]) -> None:
    secret_id = docs["salary_bands.docx"]
    flt = SearchFilter(doc_ids=(secret_id,), modalities=(Modality.TEXT,), groups=("ops",))
    assert _hits(runtime, "salary band HR-77", flt) == []  # naming the document does not unlock it
