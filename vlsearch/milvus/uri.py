"""What a Milvus URI points at: a Milvus Lite file this process opens, or a server it connects to.

The one place that decides, so the store, the worker's refusal of Lite files and the health page
agree. The schemes are pymilvus's (`ConnectionManager` accepts http, https, tcp and unix:); any
other scheme is refused here with that list instead of being mistaken for a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SERVER_SCHEMES = ("http", "https", "tcp")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class MilvusUri:
    uri: str
    server: bool  # False: a Milvus Lite file opened in this process

    @property
    def lite_file(self) -> bool:
        return not self.server


def parse_milvus_uri(uri: str) -> MilvusUri:
    text = uri.strip()
    if not text:
        raise ValueError("the Milvus URI is empty: give a Lite file path or http(s)://host:19530")
    if text.lower().startswith("unix:"):
        return MilvusUri(text, server=True)
    match = _SCHEME.match(text)
    if match is None:
        return MilvusUri(text, server=False)
    if match.group(1).lower() not in SERVER_SCHEMES:
        raise ValueError(
            f"Milvus URI {uri!r}: scheme {match.group(1)!r} is not one pymilvus connects with; "
            f"use {', '.join(s + '://' for s in SERVER_SCHEMES)}, unix:, or a Lite file path"
        )
    return MilvusUri(text, server=True)


def is_server_uri(uri: str) -> bool:
    """True for a Milvus server (or `milvus-lite server`) URI, False for a Lite file path."""
    return parse_milvus_uri(uri).server
