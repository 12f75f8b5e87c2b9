"""Loading and batched forward passes of the Qwen3-VL backbone, shared by the reranker and embedder.

Only `Qwen3VLModel` (no lm_head) is loaded: the reranker needs two lm_head rows, read straight from
the checkpoint, and the embedder needs none, which saves ~1.2 GB of GPU memory on the 8B.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from PIL import Image

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.batching import cut_sorted_batches
from vlsearch.models.device import FA2, SDPA, DeviceChoice
from vlsearch.models.qwen3vl.truncation import truncate_ids
from vlsearch.models.qwen3vl.vision import PreparedVideo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedInput:
    """One tokenised prompt with its visual tensors, ready to be batched."""

    ids: tuple[int, ...]
    pixel_values: torch.Tensor | None = None
    image_grid_thw: torch.Tensor | None = None
    pixel_values_videos: torch.Tensor | None = None
    video_grid_thw: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def model_unavailable(model_id: str, exc: BaseException, env_var: str) -> ModelUnavailableError:
    hint = (
        f"set {env_var} to a local folder holding the model (config.json, *.safetensors, tokenizer, "
        "processor files)"
    )
    if _offline():
        hint += " — HF_HUB_OFFLINE=1, so hub names resolve only from the local HF_HOME cache"
    err = ModelUnavailableError(f"cannot load Qwen3-VL model {model_id!r}: {exc}. Fix: {hint}.")
    return err


def _backbone_class() -> Any:
    """Qwen3VLModel that expects the checkpoint's lm_head to be skipped (no load-report warning)."""
    from transformers import Qwen3VLModel

    class Qwen3VLBackbone(Qwen3VLModel):
        _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"^lm_head\."]  # type: ignore[misc]

    return Qwen3VLBackbone


def load_backbone(
    model_id: str,
    choice: DeviceChoice,
    *,
    device_map: str | Mapping[str, Any] | None = None,
    env_var: str = "VLSEARCH_RERANKER",
    **model_kwargs: Any,
) -> tuple[Any, Any]:
    """Processor + Qwen3VLModel in eval mode on the chosen device (or spread by accelerate)."""
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(model_id)
        kwargs: dict[str, Any] = {"dtype": choice.dtype, "attn_implementation": choice.attn_implementation}
        if device_map is not None:
            kwargs["device_map"] = device_map  # accelerate: several GPUs or CPU/disk offload
        kwargs.update(model_kwargs)
        try:
            model: Any = _backbone_class().from_pretrained(model_id, **kwargs)
        except (ImportError, RuntimeError, ValueError) as exc:
            if kwargs["attn_implementation"] != FA2:
                raise
            # flash_attn can be installed yet unusable (ABI or CUDA mismatch): SDPA always works.
            log.warning("%s: FlashAttention-2 failed at load (%s); using SDPA", model_id, exc)
            kwargs["attn_implementation"] = SDPA
            model = _backbone_class().from_pretrained(model_id, **kwargs)
    except (OSError, ValueError) as exc:
        raise model_unavailable(model_id, exc, env_var) from exc
    if device_map is None:
        model.to(choice.device)
    model.eval()
    log.info(
        "loaded %s: device=%s dtype=%s attention=%s",
        model_id,
        device_map or choice.device,
        choice.dtype_name,
        model.config._attn_implementation,
    )
    return processor, model


def pad_token_id(tokenizer: Any) -> int:
    """The tokenizer's padding id; Qwen3-VL checkpoints without one pad with <|endoftext|>."""
    pad = tokenizer.pad_token_id
    return int(pad if pad is not None else tokenizer.convert_tokens_to_ids("<|endoftext|>"))


def special_token_ids(tokenizer: Any, config: Any) -> frozenset[int]:
    """Tokens truncation must keep: the tokenizer's specials plus the visual markers, always."""
    ids = {int(i) for i in tokenizer.all_special_ids}
    for name in ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id"):
        value = getattr(config, name, None)
        if value is not None:
            ids.add(int(value))
    return frozenset(ids)


def lm_head_rows(model_id: str, model: Any, token_ids: Sequence[int]) -> torch.Tensor:
    """The lm_head rows for `token_ids` (float32, on the output device), without loading lm_head."""
    from safetensors import safe_open
    from transformers.utils import cached_file

    rows: torch.Tensor | None = None
    shard: str | None = None
    index = cached_file(model_id, "model.safetensors.index.json", _raise_exceptions_for_missing_entries=False)
    if index:
        with open(index, encoding="utf-8") as fh:
            weight_map = json.load(fh)["weight_map"]
        name = weight_map.get("lm_head.weight")
        if name:
            shard = cached_file(model_id, name)
    else:
        shard = cached_file(model_id, "model.safetensors", _raise_exceptions_for_missing_entries=False)
    if shard:
        with safe_open(shard, framework="pt") as fh:
            if "lm_head.weight" in fh.keys():  # noqa: SIM118 - safe_open has keys() but no __contains__
                sl = fh.get_slice("lm_head.weight")
                rows = torch.stack([sl[i : i + 1][0] for i in token_ids])
    if rows is None:
        if not getattr(model.config, "tie_word_embeddings", False) and not getattr(
            model.config.text_config, "tie_word_embeddings", False
        ):
            raise ModelUnavailableError(
                f"{model_id} has no lm_head.weight and untied embeddings: "
                "it is not a Qwen3-VL reranker checkpoint"
            )
        emb = model.get_input_embeddings().weight
        rows = emb[list(token_ids)].detach()
    out_device = model.language_model.norm.weight.device
    return rows.to(device=out_device, dtype=torch.float32)


def encode(
    processor: Any,
    prompt: str,
    *,
    images: Sequence[Image.Image] = (),
    videos: Sequence[PreparedVideo] = (),
    max_length: int,
    special_ids: Collection[int],
) -> EncodedInput:
    """Run the HF processor on one prompt and truncate.

    Images and frames come from qwen-vl-utils already sized, so the processor neither resizes nor
    samples frames (`cap_pixels_per_frame` only silences a transformers warning about resizing).
    """
    kwargs: dict[str, Any] = {}
    if images:
        kwargs["images"] = list(images)
    if videos:
        kwargs["videos"] = [v.frames for v in videos]
        kwargs["video_metadata"] = [dict(v.metadata) for v in videos]  # the processor edits them
        kwargs["do_sample_frames"] = False
        kwargs["cap_pixels_per_frame"] = False
    out = processor(text=[prompt], do_resize=False, **kwargs)
    ids = truncate_ids(out["input_ids"][0], max_length=max_length, special_ids=special_ids)
    return EncodedInput(
        ids=tuple(int(i) for i in ids),
        pixel_values=out.get("pixel_values"),
        image_grid_thw=out.get("image_grid_thw"),
        pixel_values_videos=out.get("pixel_values_videos"),
        video_grid_thw=out.get("video_grid_thw"),
    )


def _cat(parts: list[torch.Tensor | None]) -> torch.Tensor | None:
    present = [p for p in parts if p is not None]
    return torch.cat(present, dim=0) if present else None


def forward_batch(
    model: Any,
    batch: Sequence[EncodedInput],
    *,
    pad_id: int,
    padding_side: Literal["left", "right"],
) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass; returns (last_hidden_state, attention_mask) on the model's devices.

    Position ids (3-D M-RoPE) are computed here from the attention mask, so every row gets the
    positions it would get alone: padded batches score like single pairs.
    """
    cfg = model.config
    width = max(len(e) for e in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, enc in enumerate(batch):
        ids = torch.tensor(enc.ids, dtype=torch.long)
        if padding_side == "left":
            input_ids[row, width - len(ids) :] = ids
            attention_mask[row, width - len(ids) :] = 1
        else:
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
    mm_types = torch.zeros_like(input_ids, dtype=torch.int32)
    mm_types[input_ids == cfg.image_token_id] = 1
    mm_types[input_ids == cfg.video_token_id] = 2
    image_grid = _cat([e.image_grid_thw for e in batch])
    video_grid = _cat([e.video_grid_thw for e in batch])
    position_ids, _ = model.get_rope_index(
        input_ids,
        mm_token_type_ids=mm_types,
        image_grid_thw=image_grid,
        video_grid_thw=video_grid,
        attention_mask=attention_mask,
    )
    device = model.get_input_embeddings().weight.device
    pixel_values = _cat([e.pixel_values for e in batch])
    pixel_values_videos = _cat([e.pixel_values_videos for e in batch])

    def dev(t: torch.Tensor | None) -> torch.Tensor | None:
        return None if t is None else t.to(device)

    out = model(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        position_ids=position_ids.to(device),
        pixel_values=dev(pixel_values),
        image_grid_thw=dev(image_grid),
        pixel_values_videos=dev(pixel_values_videos),
        video_grid_thw=dev(video_grid),
        mm_token_type_ids=mm_types.to(device),
        use_cache=False,
    )
    return out.last_hidden_state, attention_mask


class AttentionGuard:
    """Falls back to SDPA once if the first FlashAttention-2 forward raises (a kernel that imports
    but does not run on this GPU); later forwards run without the check."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.checked = False
        self.fallback = ""  # why FA2 was dropped at run time, "" if it was not

    def forward(
        self, model: Any, batch: Sequence[EncodedInput], **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.checked or model.config._attn_implementation != FA2:
            return forward_batch(model, batch, **kwargs)
        try:
            out = forward_batch(model, batch, **kwargs)
        except torch.OutOfMemoryError:
            raise  # not the kernel's fault: SDPA would need more memory, not less
        except Exception as exc:
            self.fallback = f"{type(exc).__name__}: {exc}"[:300]
            log.warning(
                "%s: first FlashAttention-2 forward failed (%s); switching to SDPA",
                self.model_id,
                self.fallback,
            )
            model.set_attn_implementation(SDPA)
            self.checked = True
            return forward_batch(model, batch, **kwargs)
        self.checked = True
        return out


def plan_batches(lengths: Sequence[int], *, token_budget: int, max_batch_size: int) -> list[list[int]]:
    """Sort by length and cut batches so that rows x padded width stays within the token budget."""
    return cut_sorted_batches(
        lengths, lambda rows, longest: rows * longest > token_budget or rows > max_batch_size
    )
