"""List settings from the environment: a JSON list, or items joined by the variable's separator."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.config import get_settings


def test_roots_split_on_colons_and_hosts_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLSEARCH_ALLOWED_ROOTS", "/srv/a::/srv/b c")
    monkeypatch.setenv("VLSEARCH_MEDIA_URL_HOSTS", " a.example , ,b.example,")
    s = get_settings()
    assert s.allowed_roots == [Path("/srv/a"), Path("/srv/b c")]
    assert s.media_url_hosts == ["a.example", "b.example"]


def test_json_lists_are_taken_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLSEARCH_ALLOWED_ROOTS", ' ["/srv/x:y"]')
    monkeypatch.setenv("VLSEARCH_MEDIA_URL_HOSTS", '[" spaced.example"]')
    s = get_settings()
    assert s.allowed_roots == [Path("/srv/x:y")]
    assert s.media_url_hosts == [" spaced.example"]
