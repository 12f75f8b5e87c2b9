"""Qwen3-VL reranking: the seed-compatible `Qwen3VLReranker`, its score cache and the search stage."""

from vlsearch.rerank.cache import ScoreCache
from vlsearch.rerank.qwen3vl import Qwen3VLReranker
from vlsearch.rerank.stage import RerankStage

__all__ = ["Qwen3VLReranker", "RerankStage", "ScoreCache"]
