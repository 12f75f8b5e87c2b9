"""What the Cohere / Jina request fields mean for the reranker's inputs.

- `rank_fields`: the document fields read, in the order given ("title: …" lines, YAML-like, as
  Cohere recommends for structured documents); default: the `text` field, as Cohere.
- `max_tokens_per_doc`: each document's text cut to its first N tokens of the served model.
- `max_chunks_per_doc`: a document longer than the reranker's context (what is left of its
  max_length after the prompt and the query) is split into consecutive chunks, at most this many
  (the rest is dropped), each scored with the document's media; the document scores as its best
  chunk. This is Cohere's documented procedure; 1 (the default) leaves the model's own truncation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vlsearch.api.errors import ApiError
from vlsearch.api.schemas.rerank import RerankContent, RerankDocument
from vlsearch.models.base import Reranker, RerankInput
from vlsearch.models.qwen3vl.prompt import EMPTY_SIDE, rerank_prompt
from vlsearch.rerank.text_budget import TextBudget

MAX_CHUNKS_TOTAL = 2000  # scored pairs per request once documents are split
REMOTE_CONTEXT_TOKENS = 4096  # a remote reranker's context when it does not say


@dataclass(frozen=True)
class Chunked:
    """Rerank inputs after field selection, truncation and chunking; owner[i] = document of input i."""

    inputs: tuple[RerankInput, ...]
    owner: tuple[int, ...]


def document_text(doc: str | RerankDocument, rank_fields: Sequence[str] | None) -> str | None:
    """The text the reranker reads for one document."""
    if isinstance(doc, str):
        return doc
    fields = list(rank_fields or ["text"])
    if fields == ["text"]:
        return doc.text
    data = _fields(doc)
    present = [name for name in fields if data.get(name) not in (None, "")]
    if len(fields) == 1:
        return _flat(data[present[0]]) if present else None
    return "\n".join(f"{name}: {_flat(data[name])}" for name in present) or None


def echo(doc: str | RerankDocument) -> dict[str, Any]:
    """The document as sent (Cohere preserves every field; a string comes back as {"text": …})."""
    if isinstance(doc, str):
        return {"text": doc}
    return _fields(doc)


def with_text(doc: RerankDocument, text: str | None) -> RerankContent:
    """The document's media references with `text` in place of its own text (not re-validated)."""
    return RerankContent.model_construct(
        text=text, image=doc.image, video=doc.video, url=doc.url, item_id=doc.item_id, doc_id=doc.doc_id
    )


def text_budget(reranker: Reranker) -> TextBudget:
    return TextBudget(getattr(reranker, "tokenizer", None))


def chunk_documents(
    reranker: Reranker,
    query: RerankInput,
    docs: Sequence[RerankInput],
    *,
    instruction: str | None,
    max_tokens: int | None,
    max_chunks: int | None,
) -> Chunked:
    budget: TextBudget | None = None
    if max_tokens is not None or (max_chunks or 1) > 1:
        budget = text_budget(reranker)
    chunk_tokens = 0
    if budget is not None and (max_chunks or 1) > 1:
        chunk_tokens = _chunk_tokens(reranker, budget, query, instruction)
    inputs: list[RerankInput] = []
    owner: list[int] = []
    for i, doc in enumerate(docs):
        text = _text(doc)
        if budget is None or text is None:
            inputs.append(doc)
            owner.append(i)
            continue
        if max_tokens is not None:
            text = budget.truncate(text, max_tokens)
        pieces = [text] if chunk_tokens == 0 else budget.chunks(text, chunk_tokens, max_chunks or 1)
        for piece in pieces:
            inputs.append(RerankInput(text=piece, image=doc.image, video=doc.video))
            owner.append(i)
    if len(inputs) > MAX_CHUNKS_TOTAL:
        raise ApiError(
            "invalid_request",
            f"the documents split into {len(inputs)} chunks; the limit is {MAX_CHUNKS_TOTAL} per "
            "request: lower max_chunks_per_doc or send fewer documents",
            status=422,
        )
    return Chunked(inputs=tuple(inputs), owner=tuple(owner))


def best_per_document(scores: Sequence[float], owner: Sequence[int], n_docs: int) -> list[float]:
    best = [float("-inf")] * n_docs
    for score, i in zip(scores, owner, strict=True):
        best[i] = max(best[i], float(score))
    return best


def _chunk_tokens(reranker: Reranker, budget: TextBudget, query: RerankInput, instruction: str | None) -> int:
    """What is left of the reranker's context for document text once the prompt and query are in."""
    context = int(getattr(reranker, "max_length", 0) or REMOTE_CONTEXT_TOKENS)
    prompt = rerank_prompt(_text(query) or EMPTY_SIDE, EMPTY_SIDE, instruction)
    return max(64, context - budget.count(prompt))


def _text(side: RerankInput) -> str | None:
    if side.text is None or isinstance(side.text, str):
        return side.text
    return "\n".join(str(t) for t in side.text)


def _fields(doc: RerankDocument) -> dict[str, Any]:
    data = doc.model_dump(exclude_none=True)
    data.update(doc.model_extra or {})
    return data


def _flat(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
