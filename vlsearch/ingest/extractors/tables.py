"""Tables rendered as readable rows ("Col: value | Col: value") so rows embed and match as text."""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(rows: Sequence[Sequence[str]], *, sep: str = " | ") -> list[str]:
    """First non-empty row is the header; empty cells are left out of a row's text."""
    cleaned = [[" ".join(c.split()) for c in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    if len(cleaned) == 1:
        return [sep.join(c for c in cleaned[0] if c)]
    header, body = cleaned[0], cleaned[1:]
    lines = []
    for row in body:
        pairs = []
        for col, value in enumerate(row):
            if not value:
                continue
            name = header[col] if col < len(header) and header[col] else ""
            pairs.append(f"{name}: {value}" if name else value)
        if pairs:
            lines.append(sep.join(pairs))
    return lines
