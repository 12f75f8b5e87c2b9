"""Which files ingestion may read: only regular files under the configured allowed roots."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from vlsearch.errors import PathNotAllowedError


def check_allowed(path: Path, roots: Sequence[Path]) -> Path:
    """Resolve symlinks and `..` first, so a link inside a root cannot point outside it."""
    resolved = path.expanduser().resolve()
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        shown = ", ".join(str(r) for r in roots)
        raise PathNotAllowedError(
            f"{path} is outside the allowed roots ({shown}); set VLSEARCH_ALLOWED_ROOTS to include it"
        )
    return resolved


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the files under given directories (sorted, hidden entries skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child
        else:
            yield path


def shown_name(path: Path) -> str:
    """A path as text that can always be printed, logged and stored: bytes that are not UTF-8
    (a name from another system's encoding) as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def name_problem(path: Path) -> str | None:
    """Why a path cannot be a document's source (its name is not UTF-8), or None."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"{shown_name(path)}: the file name is not valid UTF-8 (written in another encoding); "
            "rename the file (e.g. convmv -f latin1 -t utf8) and ingest it again"
        )
    return None
