"""The installed package version (backups record it; the API reports it)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vlsearch")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0+source"
