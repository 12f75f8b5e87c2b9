"""Qwen3-VL plumbing shared by the reranker (vlsearch.rerank.qwen3vl) and the embedder
(vlsearch.models.qwen3vl_embedder): parsing a side's content and its vision limits (inputs), the
official prompt templates (prompt), images and video frames the way qwen-vl-utils reads them
(vision), token truncation (truncation), the transformers backbone (backbone, the one module
here that imports torch, and only when a model loads), and the base both models build on (model:
placement, load state, `info()`, the shared part of `load()`, `unload()`).

Nothing here imports from `vlsearch.rerank`; importing this package imports no module of it.
"""
