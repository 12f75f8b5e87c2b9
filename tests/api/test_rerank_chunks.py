"""Cohere's max_tokens_per_doc / max_chunks_per_doc in the served model's tokens, with a real tiny
Qwen3-VL reranker whose context is made short enough to need chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlsearch.api.rerank_docs import best_per_document, chunk_documents
from vlsearch.models.base import RerankInput
from vlsearch.rerank.text_budget import TextBudget

LONG = " ".join(f"Step {i}: check fan module F-{i} and its airflow before the next rack." for i in range(60))


@pytest.fixture(scope="module")
def short_context_reranker(tiny_reranker: Path):
    from vlsearch.rerank import Qwen3VLReranker

    reranker = Qwen3VLReranker(model_name_or_path=str(tiny_reranker), max_length=192)
    reranker.load()
    return reranker


def test_budget_cuts_on_token_boundaries(short_context_reranker) -> None:
    budget = TextBudget(short_context_reranker.tokenizer)
    ids = short_context_reranker.tokenizer(LONG, add_special_tokens=False)["input_ids"]
    assert budget.count(LONG) == len(ids)
    head = budget.truncate(LONG, 40)
    assert LONG.startswith(head) and budget.count(head) == 40
    assert short_context_reranker.tokenizer(head, add_special_tokens=False)["input_ids"] == ids[:40]
    pieces = budget.chunks(LONG, 100, max_chunks=1000)
    assert "".join(pieces) == LONG and all(budget.count(p) <= 100 for p in pieces)
    assert budget.chunks(LONG, 100, max_chunks=2) == pieces[:2]
    approx = TextBudget()  # no tokenizer (a remote reranker): words and CJK characters
    assert not approx.exact and approx.count("电源模块 PSU-800W") == 5


def test_a_long_document_scores_as_its_best_chunk(short_context_reranker) -> None:
    query = RerankInput(text="fan airflow")
    docs = [RerankInput(text=LONG), RerankInput(text="short note about fans")]
    chunked = chunk_documents(
        short_context_reranker, query, docs, instruction=None, max_tokens=None, max_chunks=3
    )
    owners = list(chunked.owner)
    assert owners == [0, 0, 0, 1]  # three chunks of the long document (the rest dropped), one short
    pieces = [str(i.text) for i in chunked.inputs[:3]]
    assert LONG.startswith("".join(pieces)) and len("".join(pieces)) < len(LONG)
    scores = short_context_reranker.score(query, list(chunked.inputs))
    best = best_per_document(scores, chunked.owner, 2)
    one_by_one = [short_context_reranker.score(query, [RerankInput(text=p)])[0] for p in pieces]
    assert best[0] == pytest.approx(max(one_by_one), abs=1e-5)
    assert best[1] == pytest.approx(scores[3])
    # each chunk fits the context with the prompt and query, so the model cut none of it
    budget = TextBudget(short_context_reranker.tokenizer)
    assert all(budget.count(p) <= 192 for p in pieces)
