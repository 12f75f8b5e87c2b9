"""SECURITY.md names the test that proves each control: every named test file and test must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`(test_\w+)`")


def _references() -> list[tuple[str, str | None]]:
    refs: list[tuple[str, str | None]] = []
    for line in (REPO / "SECURITY.md").read_text(encoding="utf-8").splitlines():
        current: str | None = None
        for match in _REF.finditer(line):
            path, name, bare = match.groups()
            if path:
                current = path
                refs.append((path, name))
            elif bare:
                assert current is not None, f"{bare} is named before any test file on: {line}"
                refs.append((current, bare))
    return refs


def test_every_test_named_in_security_md_exists() -> None:
    refs = _references()
    assert len(refs) > 30
    for path, name in refs:
        file = REPO / path
        assert file.is_file(), f"SECURITY.md names {path}, which does not exist"
        if name:
            assert re.search(rf"def {name}\(", file.read_text(encoding="utf-8")), f"{path}::{name} not found"
