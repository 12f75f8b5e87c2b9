"""What the Qwen3-VL embedder and reranker share as models: where the backbone is placed, its load
state, the token ids encoding needs, `info()` and `unload()`.

Construction stays cheap: torch, transformers and qwen-vl-utils are imported only when a subclass's
`load()` calls `_open_backbone()` inside its `self._life.loading(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from vlsearch.models.base import ModelInfo
from vlsearch.models.device import DeviceChoice, placement_labels, release_cuda_memory
from vlsearch.models.lifecycle import ModelLifecycle

if TYPE_CHECKING:
    import torch

    from vlsearch.models.qwen3vl.backbone import AttentionGuard


class Qwen3VLModel:
    KIND: ClassVar[str]  # ModelInfo.kind: "embedder" | "reranker"
    ENV_VAR: ClassVar[str]  # the setting that names the model, for "not found" errors

    def __init__(
        self,
        *,
        model_id: str,
        device: str | None,
        torch_dtype: torch.dtype | str | None,
        device_map: str | Mapping[str, Any] | None,
        attn_implementation: str | None,
        max_length: int,
        token_budget: int,
        max_batch_size: int,
        name: str,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self._model_id = model_id
        self._device = device
        self._dtype = torch_dtype
        self._device_map = device_map
        self._attn = attn_implementation
        self._model_kwargs = dict(model_kwargs or {})
        self.max_length = max_length
        self.token_budget = token_budget
        self.max_batch_size = max_batch_size
        self.name = name
        self._life = ModelLifecycle()
        self._lock = self._life.lock
        self._choice: DeviceChoice | None = None
        self._processor: Any = None
        self._model: Any = None
        self._guard: AttentionGuard | None = None
        self._special_ids: frozenset[int] = frozenset()
        self._pad_id = 0
        self.forward_calls = 0  # forward passes run, for tests and benchmarks

    @property
    def model_id(self) -> str:
        return self._model_id

    def info(self) -> ModelInfo:
        device, dtype = placement_labels(
            self._choice, device=self._device, device_map=self._device_map, dtype=self._dtype
        )
        return ModelInfo(
            name=self.name,
            model_id=self._model_id,
            kind=self.KIND,
            backend="qwen3-vl",
            state=self._life.state,
            device=device,
            dtype=dtype,
            dim=self._info_dim(),
            multimodal=True,
            error=self._life.error,
        )

    def _info_dim(self) -> int | None:
        return None

    def _open_backbone(self) -> tuple[DeviceChoice, Any, Any]:
        """Check for qwen-vl-utils, choose the device, load processor and backbone and read the
        special and pad token ids: (choice, processor, model), not yet held (see `_hold`)."""
        from vlsearch.models.device import resolve_device
        from vlsearch.models.qwen3vl.backbone import load_backbone, pad_token_id, special_token_ids
        from vlsearch.models.qwen3vl.vision import qwen_vl_utils

        qwen_vl_utils()  # fail here, not on the first video, when it is missing
        choice = resolve_device(self._device, self._dtype, self._attn)
        processor, model = load_backbone(
            self._model_id, choice, device_map=self._device_map, env_var=self.ENV_VAR, **self._model_kwargs
        )
        tok = processor.tokenizer
        self._special_ids = special_token_ids(tok, model.config)
        self._pad_id = pad_token_id(tok)
        return choice, processor, model

    def _hold(self, choice: DeviceChoice, processor: Any, model: Any) -> None:
        from vlsearch.models.qwen3vl.backbone import AttentionGuard

        self._choice, self._processor, self._model = choice, processor, model
        self._guard = AttentionGuard(self._model_id)

    def unload(self) -> None:
        with self._lock:
            self._model = self._processor = self._guard = None
            self._life.mark_unloaded()
            release_cuda_memory()
