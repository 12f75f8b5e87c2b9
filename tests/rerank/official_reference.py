"""The official Qwen3-VL-Reranker / -Embedding recipe, restated on the test side only.

Written from the facts in qwen3-vl-reference.md and the public Qwen3-VL-Embedding scripts, and
deliberately independent of vlsearch: its own prompt strings, its own element dicts for qwen-vl-utils
(`fetch_image` / `fetch_video` with `image_patch_size=16`, `return_video_metadata=True`), the HF
processor called directly with `do_resize=False` / `do_sample_frames=False`, one pair per forward
pass through the backbone, and sigmoid(h · (W[yes] − W[no])) at the last position. Nothing here
imports from `vlsearch`, so a parity test against it cannot pass by sharing a bug with our code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

FACTOR = 32  # one visual token = 32x32 pixels (patch 16, spatial merge 2)
MIN_PIXELS = 4 * FACTOR * FACTOR
MAX_PIXELS = 1800 * FACTOR * FACTOR
FRAME_LIST_TOTAL_PIXELS = 10 * 768 * FACTOR * FACTOR
RERANK_INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query."
EMBED_INSTRUCTION = "Represent the user's input."
SYSTEM = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
    'Note that the answer can only be "yes" or "no".'
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tiff")
TAIL = 5  # <|im_end|> \n <|im_start|> assistant \n


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _one_video(value: Any) -> bool:
    """Official rule: a string, or a list that starts with a frame (PIL image or image path)."""
    if isinstance(value, str):
        return True
    if isinstance(value, (list, tuple)) and value:
        first = value[0]
        return isinstance(first, Image.Image) or (
            isinstance(first, str) and first.lower().endswith(IMAGE_SUFFIXES)
        )
    return False


def _uri(ref: Any) -> Any:
    if isinstance(ref, str) and not ref.startswith(("http://", "https://", "data:")):
        return "file://" + ref
    return ref


class OfficialRecipe:
    """Element dicts and visual inputs exactly as the official scripts hand them to qwen-vl-utils."""

    def __init__(
        self, *, fps: float = 1.0, max_frames: int = 64, total_pixels: int = FRAME_LIST_TOTAL_PIXELS
    ) -> None:
        self.fps = fps
        self.max_frames = max_frames
        self.total_pixels = total_pixels

    def elements(
        self, side: Mapping[str, Any], *, fps: float | None = None, max_frames: int | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        """(video elements, image elements, texts) of one side, in the official order."""
        raw_video = side.get("video")
        videos = [] if raw_video is None else ([raw_video] if _one_video(raw_video) else list(raw_video))
        video_elements = []
        for video in videos:
            if isinstance(video, (list, tuple)):
                frames = list(video)
                if len(frames) > self.max_frames:  # thinned with the constructor's max_frames
                    keep = np.linspace(0, len(frames) - 1, self.max_frames, dtype=int).tolist()
                    frames = [frames[i] for i in keep]
                video_elements.append({"video": [_uri(f) for f in frames], "total_pixels": self.total_pixels})
            else:
                video_elements.append(
                    {
                        "video": _uri(str(video)),
                        "fps": fps or self.fps,
                        "max_frames": max_frames or self.max_frames,
                    }
                )
        image_elements = [
            {"image": _uri(str(img)) if not isinstance(img, Image.Image) else img}
            | {"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS}
            for img in _listify(side.get("image"))
        ]
        texts = [str(t) for t in _listify(side.get("text"))]
        return video_elements, image_elements, texts

    @staticmethod
    def fetch(
        video_elements: Sequence[dict[str, Any]], image_elements: Sequence[dict[str, Any]]
    ) -> tuple[list[Any], list[Any], list[Any]]:
        from qwen_vl_utils import fetch_image, fetch_video

        images = [fetch_image(e, image_patch_size=16) for e in image_elements]
        videos, metadata = [], []
        for element in video_elements:
            video, meta = fetch_video(element, image_patch_size=16, return_video_metadata=True)
            videos.append(video)
            metadata.append(meta)
        return images, videos, metadata


def _content(video_elements: list[Any], image_elements: list[Any], texts: list[str]) -> str:
    body = "<|vision_start|><|video_pad|><|vision_end|>" * len(video_elements)
    body += "<|vision_start|><|image_pad|><|vision_end|>" * len(image_elements)
    return body + "".join(texts)


def _processor_inputs(processor: Any, prompt: str, images: list, videos: list, metadata: list) -> Any:
    kwargs: dict[str, Any] = {}
    if images:
        kwargs["images"] = images
    if videos:
        # cap_pixels_per_frame only silences a transformers warning: nothing is resized here
        kwargs.update(
            videos=videos, video_metadata=metadata, do_sample_frames=False, cap_pixels_per_frame=False
        )
    return processor(text=[prompt], do_resize=False, return_tensors="pt", **kwargs)


class OfficialReranker:
    """One (query, document) pair per forward, as the official Qwen3VLReranker.process scores them."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        max_length: int = 10240,
        fps: float = 1.0,
        max_frames: int = 64,
        default_instruction: str = RERANK_INSTRUCTION,
    ) -> None:
        from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

        os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
        self.processor = AutoProcessor.from_pretrained(model_dir)
        full = Qwen3VLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
        tok = self.processor.tokenizer
        yes, no = tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")
        self.head = (full.lm_head.weight[yes] - full.lm_head.weight[no]).detach().float()
        self.backbone = full.model
        self.recipe = OfficialRecipe(fps=fps, max_frames=max_frames)
        self.max_length = max_length
        self.default_instruction = default_instruction
        self.special = set(tok.all_special_ids)
        self.last_prompts: list[str] = []

    def _truncate(self, ids: list[int]) -> list[int]:
        body, tail = ids[:-TAIL], ids[-TAIL:]
        if len(body) <= self.max_length:
            return ids
        room = self.max_length - sum(1 for t in body if t in self.special)
        kept = []
        for token in body:
            if token in self.special:
                kept.append(token)
            elif room > 0:
                kept.append(token)
                room -= 1
        return kept + tail

    def prompt(self, instruction: str, query: tuple, document: tuple) -> str:
        q = _content(*query) or "NULL"
        d = _content(*document) or "NULL"
        return (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
            f"<Instruct>: {instruction}<Query>:{q}\n<Document>:{d}<|im_end|>\n<|im_start|>assistant\n"
        )

    @torch.inference_mode()
    def process(self, inputs: Mapping[str, Any]) -> list[float]:
        query, documents = inputs.get("query"), inputs.get("documents")
        if not query or not documents:
            return []
        instruction = inputs.get("instruction") or self.default_instruction
        opts = {"fps": inputs.get("fps"), "max_frames": inputs.get("max_frames")}
        q_el = self.recipe.elements(query, **opts)
        scores, self.last_prompts = [], []
        for document in documents:
            d_el = self.recipe.elements(document, **opts)
            prompt = self.prompt(instruction, q_el, d_el)
            self.last_prompts.append(prompt)
            images, videos, metadata = self.recipe.fetch(q_el[0] + d_el[0], q_el[1] + d_el[1])
            batch = _processor_inputs(self.processor, prompt, images, videos, metadata)
            ids = self._truncate(batch["input_ids"][0].tolist())
            batch["input_ids"] = torch.tensor([ids])
            batch["attention_mask"] = torch.ones_like(batch["input_ids"])
            batch["mm_token_type_ids"] = torch.tensor(self.processor.create_mm_token_type_ids([ids]))
            hidden = self.backbone(**batch).last_hidden_state[0, -1].float()
            scores.append(float(torch.sigmoid(hidden @ self.head)))
        return scores


class OfficialEmbedder:
    """Qwen3-VL-Embedding: last-token pooling, L2-normalised, one input per forward."""

    def __init__(self, model_dir: str | Path, *, max_frames: int = 64) -> None:
        from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

        os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
        self.processor = AutoProcessor.from_pretrained(model_dir)
        full = Qwen3VLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32)
        self.model = full.model.eval()
        self.recipe = OfficialRecipe(max_frames=max_frames)

    @staticmethod
    def instruction(text: str) -> str:
        import unicodedata

        text = text.strip()
        if text and not unicodedata.category(text[-1]).startswith("P"):
            text += "."
        return text

    @torch.inference_mode()
    def embed(self, item: Mapping[str, Any], instruction: str = EMBED_INSTRUCTION) -> np.ndarray:
        videos_el, images_el, texts = self.recipe.elements(item)
        content = _content(videos_el, images_el, texts) or "NULL"
        prompt = (
            f"<|im_start|>system\n{self.instruction(instruction)}<|im_end|>\n"
            f"<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n"
        )
        images, videos, metadata = self.recipe.fetch(videos_el, images_el)
        batch = _processor_inputs(self.processor, prompt, images, videos, metadata)
        hidden = self.model(**batch).last_hidden_state[0, -1].float()
        return torch.nn.functional.normalize(hidden, dim=0).numpy()
