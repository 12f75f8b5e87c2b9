"""Document extractors: one function per doc_type, chosen through EXTRACTORS.

Every extractor takes (path, *, limits) and returns an Extraction, or raises ExtractionError /
TooLargeError / UnsupportedTypeError with a reason that tells the user what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from vlsearch.errors import ExtractionError, TooLargeError, UnsupportedTypeError
from vlsearch.ingest.extractors.docx import extract_docx
from vlsearch.ingest.extractors.html import extract_html
from vlsearch.ingest.extractors.image import extract_image
from vlsearch.ingest.extractors.markdown import extract_markdown
from vlsearch.ingest.extractors.pdf import extract_pdf
from vlsearch.ingest.extractors.pptx import extract_pptx
from vlsearch.ingest.extractors.text import extract_text
from vlsearch.ingest.extractors.video import extract_video
from vlsearch.ingest.extractors.xlsx import extract_xlsx
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction

ExtractFn = Callable[..., Extraction]

EXTRACTORS: Mapping[str, ExtractFn] = MappingProxyType(
    {
        "pdf": extract_pdf,
        "docx": extract_docx,
        "pptx": extract_pptx,
        "xlsx": extract_xlsx,
        "html": extract_html,
        "markdown": extract_markdown,
        "text": extract_text,
        "image": extract_image,
        "video": extract_video,
    }
)

__all__ = ["EXTRACTORS", "extract"]


def extract(path: Path, doc_type: str, *, limits: Limits) -> Extraction:
    """Extract text blocks and figures from one document file of a sniffed doc_type."""
    fn = EXTRACTORS.get(doc_type)
    if fn is None:
        raise UnsupportedTypeError(
            f"{path.name}: no document extractor for type {doc_type!r}; "
            f"supported: {', '.join(sorted(EXTRACTORS))}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise ExtractionError(f"{path.name}: empty file (0 bytes); nothing to index")
    if size > limits.max_file_bytes:
        raise TooLargeError(
            f"{path.name}: file is {size / 2**20:.1f} MiB, over the {limits.max_file_bytes / 2**20:.0f} MiB "
            f"limit (VLSEARCH_MAX_FILE_MB)"
        )
    return fn(path, limits=limits)
