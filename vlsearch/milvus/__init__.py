"""Milvus storage: collection schema, filter building and the Store facade."""

from vlsearch.errors import EmbedderMismatchError, StoreUnavailableError
from vlsearch.milvus.filters import build_filter
from vlsearch.milvus.store import Store

__all__ = ["EmbedderMismatchError", "Store", "StoreUnavailableError", "build_filter"]
