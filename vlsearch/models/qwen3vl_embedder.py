"""Qwen3-VL-Embedding behind the Embedder protocol: one vector space for text, images and video frames.

Pooling is the hidden state of the last non-pad token with RIGHT padding, L2-normalised; queries
carry a task instruction, documents the default one. `dim` > 0 keeps a Matryoshka prefix. Images
and frame lists go through qwen-vl-utils with the official embedding script's element dicts (see
`vlsearch.models.qwen3vl.vision`); torch is imported only when the model loads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.qwen3vl.inputs import SideContent, VisionLimits
from vlsearch.models.qwen3vl.model import Qwen3VLModel
from vlsearch.models.qwen3vl.prompt import (
    EMBED_DEFAULT_INSTRUCTION,
    EMBED_QUERY_INSTRUCTION,
    embed_prompt,
    side_content,
)
from vlsearch.types import EmbedInput, Role

if TYPE_CHECKING:
    import torch

    from vlsearch.models.qwen3vl.backbone import EncodedInput

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "Qwen/Qwen3-VL-Embedding-2B"


class Qwen3VLEmbedder(Qwen3VLModel):
    KIND = "embedder"
    ENV_VAR = "VLSEARCH_EMBEDDER"

    def __init__(
        self,
        *,
        model: str = DEFAULT_EMBEDDER,
        device: str | None = None,
        torch_dtype: torch.dtype | str | None = None,
        device_map: str | Mapping[str, Any] | None = None,
        attn_implementation: str | None = None,
        dim: int = 0,
        query_instruction: str = EMBED_QUERY_INSTRUCTION,
        document_instruction: str = EMBED_DEFAULT_INSTRUCTION,
        max_length: int = 8192,
        token_budget: int = 16384,
        max_batch_size: int = 32,
        limits: VisionLimits | None = None,
        name: str = "embedder",
    ) -> None:
        if dim < 0:
            raise ValueError("dim must be >= 0 (0 keeps the full embedding)")
        super().__init__(
            model_id=model,
            device=device or None,
            torch_dtype=torch_dtype,
            device_map=device_map,
            attn_implementation=attn_implementation,
            max_length=max_length,
            token_budget=token_budget,
            max_batch_size=max_batch_size,
            name=name,
        )
        self._dim_request = dim
        self._full_dim: int | None = None
        self.query_instruction = query_instruction
        self.document_instruction = document_instruction
        self.limits = limits or VisionLimits()

    @property
    def multimodal(self) -> bool:
        return True

    @property
    def full_dim(self) -> int:
        """Hidden size from config.json (no weights needed)."""
        if self._full_dim is None:
            from transformers.utils import cached_file

            from vlsearch.models.qwen3vl.backbone import model_unavailable

            try:
                path = cached_file(self._model_id, "config.json")
            except OSError as exc:
                raise model_unavailable(self._model_id, exc, self.ENV_VAR) from exc
            with open(str(path), encoding="utf-8") as fh:
                cfg = json.load(fh)
            self._full_dim = int(cfg.get("text_config", cfg)["hidden_size"])
        return self._full_dim

    @property
    def dim(self) -> int:
        full = self.full_dim
        if self._dim_request > full:
            raise ValueError(f"dim={self._dim_request} exceeds the model's {full}; use 0 or a smaller value")
        return self._dim_request or full

    def _info_dim(self) -> int | None:
        try:
            return self.dim
        except Exception:  # the model folder may be missing; info() must still answer
            return None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            with self._life.loading(str):
                choice, processor, model = self._open_backbone()
                self._full_dim = int(model.config.text_config.hidden_size)
                self._hold(choice, processor, model)

    def build_prompt(self, item: EmbedInput, *, role: Role) -> str:
        side = _side(item)
        instruction = self.query_instruction if role is Role.QUERY else self.document_instruction
        return embed_prompt(side_content(side.texts, len(side.images), len(side.videos)), instruction)

    def encode_inputs(self, inputs: Sequence[EmbedInput], *, role: Role) -> list[EncodedInput]:
        from vlsearch.models.qwen3vl.backbone import encode
        from vlsearch.models.qwen3vl.vision import fetch_sides

        self.load()
        out = []
        visuals = fetch_sides([_side(item) for item in inputs], self.limits)
        for item, (images, videos) in zip(inputs, visuals, strict=True):
            out.append(
                encode(
                    self._processor,
                    self.build_prompt(item, role=role),
                    images=images,
                    videos=videos,
                    max_length=self.max_length,
                    special_ids=self._special_ids,
                )
            )
        return out

    def embed(self, inputs: Sequence[EmbedInput], *, role: Role) -> np.ndarray:
        """(n, dim) float32 unit vectors; loads on first use."""
        if not inputs:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        from vlsearch.models.qwen3vl.backbone import plan_batches

        encoded = self.encode_inputs(inputs, role=role)
        dim = self.dim
        result = np.zeros((len(encoded), dim), dtype=np.float32)
        plan = plan_batches(
            [len(e) for e in encoded], token_budget=self.token_budget, max_batch_size=self.max_batch_size
        )
        with self._lock, torch.inference_mode():
            model, guard = self._model, self._guard
            if model is None or guard is None:
                raise ModelUnavailableError(
                    f"embedder {self._model_id} was unloaded while embedding; load it again"
                )
            for idx in plan:
                hidden, mask = guard.forward(
                    model, [encoded[i] for i in idx], pad_id=self._pad_id, padding_side="right"
                )
                last = mask.sum(dim=1) - 1
                rows = torch.arange(len(idx))
                pooled = hidden[rows.to(hidden.device), last.to(hidden.device)].float()[:, :dim]
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
                result[idx] = pooled.cpu().numpy()
                self.forward_calls += 1
        return result


def _side(item: EmbedInput) -> SideContent:
    return SideContent(
        texts=(item.text,) if item.text else (),
        images=tuple(item.images),
        videos=(tuple(item.video_frames),) if item.video_frames else (),
    )
