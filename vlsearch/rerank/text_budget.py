"""Counting, cutting and chunking document text in the reranker's own tokens.

The drop-in rerank API honours Cohere's `max_tokens_per_doc` (cut a document to N tokens) and
`max_chunks_per_doc` (score a long document as its best chunk). Tokens are the served model's: cuts
fall on token boundaries of the original string (the tokenizer's character offsets), so the text the
model reads is exactly the first N tokens. A reranker without a local tokenizer (a remote one) is
measured with a stand-in that counts words and CJK characters; `exact` says which one is in use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_APPROX_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\s\u3400-\u9fff]+")


class TextBudget:
    def __init__(self, tokenizer: Any | None = None) -> None:
        self._tokenizer = tokenizer

    @property
    def exact(self) -> bool:
        return self._tokenizer is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character offsets of each token of `text`."""
        if not text:
            return []
        if self._tokenizer is None:
            return [m.span() for m in _APPROX_TOKEN.finditer(text)]
        enc = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def count(self, text: str) -> int:
        return len(self.spans(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        """The first `max_tokens` tokens of `text` (the text itself when it is shorter)."""
        spans = self.spans(text)
        if len(spans) <= max_tokens:
            return text
        return text[: spans[max_tokens - 1][1]] if max_tokens > 0 else ""

    def chunks(self, text: str, chunk_tokens: int, max_chunks: int) -> list[str]:
        """Consecutive pieces of at most `chunk_tokens` tokens, the first `max_chunks` of them."""
        if chunk_tokens <= 0:
            raise ValueError("chunk_tokens must be positive")
        spans = self.spans(text)
        if len(spans) <= chunk_tokens:
            return [text]
        pieces: list[str] = []
        for start in range(0, len(spans), chunk_tokens):
            if len(pieces) == max_chunks:
                break
            window: Sequence[tuple[int, int]] = spans[start : start + chunk_tokens]
            begin = 0 if start == 0 else spans[start - 1][1]
            pieces.append(text[begin : window[-1][1]])
        return pieces
