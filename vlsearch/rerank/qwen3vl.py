"""Qwen3-VL-Reranker: the official prompt, score and truncation, batched.

score = sigmoid(h · (W[yes] − W[no])) where h is the backbone's last hidden state at the final
position (left padding), which equals P("yes") from a softmax over the ["no", "yes"] logits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vlsearch.config import DEFAULT_RERANK_INSTRUCTION, Settings
from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import RerankInput
from vlsearch.models.device import DeviceChoice
from vlsearch.models.lifecycle import describe_error
from vlsearch.models.qwen3vl.inputs import SideContent, VisionLimits, parse_side
from vlsearch.models.qwen3vl.model import Qwen3VLModel
from vlsearch.models.qwen3vl.prompt import rerank_prompt, side_content

if TYPE_CHECKING:
    import torch

    from vlsearch.models.qwen3vl.backbone import EncodedInput

log = logging.getLogger(__name__)

DEFAULT_RERANKER = "Qwen/Qwen3-VL-Reranker-2B"


class Qwen3VLReranker(Qwen3VLModel):
    """Seed-compatible reranker: `Qwen3VLReranker(model_name_or_path=..., torch_dtype=...).process(inputs)`.

    Construction is cheap and imports no torch; weights load on first use or on `load()`. Images and
    videos are prepared by qwen-vl-utils exactly as the official code prepares them (see
    `vlsearch.models.qwen3vl.vision`); `fps` and `max_frames` here are the defaults a call may override for
    video files, while frame lists are always thinned to this `max_frames`, as upstream.
    """

    KIND = "reranker"
    ENV_VAR = "VLSEARCH_RERANKER"

    def __init__(
        self,
        *,
        model_name_or_path: str = DEFAULT_RERANKER,
        torch_dtype: torch.dtype | str | None = None,
        device: str | None = None,
        device_map: str | Mapping[str, Any] | None = None,
        attn_implementation: str | None = None,
        max_length: int = 10240,
        token_budget: int = 16384,
        max_batch_size: int = 64,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        total_pixels: int | None = None,
        video_file_total_pixels: int | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
        max_video_seconds: float | None = None,
        default_instruction: str = DEFAULT_RERANK_INSTRUCTION,
        name: str = "reranker",
        **model_kwargs: Any,
    ) -> None:
        base = VisionLimits()
        self.limits = VisionLimits(
            min_pixels=min_pixels or base.min_pixels,
            max_pixels=max_pixels or base.max_pixels,
            total_pixels=total_pixels or base.total_pixels,
            video_file_total_pixels=video_file_total_pixels or None,
            fps=fps or base.fps,
            max_frames=max_frames or base.max_frames,
            max_video_seconds=max_video_seconds or base.max_video_seconds,
        )
        super().__init__(
            model_id=str(model_name_or_path),
            device=device,
            torch_dtype=torch_dtype,
            device_map=device_map,
            attn_implementation=attn_implementation,
            max_length=max_length,
            token_budget=token_budget,
            max_batch_size=max_batch_size,
            name=name,
            model_kwargs=model_kwargs,
        )
        self.default_instruction = default_instruction
        self._head: torch.Tensor | None = None  # W[yes] - W[no], float32
        self.pairs_scored = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def attn_implementation(self) -> str:
        """The attention the loaded model runs ("" before loading), after any run-time fallback."""
        model = self._model
        return str(model.config._attn_implementation) if model is not None else ""

    @property
    def tokenizer(self) -> Any:
        """The model's text tokenizer (loads the model): the rerank API cuts documents in its tokens."""
        self.load()
        return self._processor.tokenizer

    def load(self) -> None:
        """Load processor and weights. Safe to call twice and from several threads."""
        with self._lock:
            if self._model is not None:
                return
            started = time.perf_counter()
            with self._life.loading(_load_error):
                from vlsearch.models.qwen3vl.backbone import lm_head_rows

                choice, processor, model = self._open_backbone()
                yes_no = [self._single_token_id(processor.tokenizer, w) for w in ("yes", "no")]
                rows = lm_head_rows(self._model_id, model, yes_no)
                self._head = rows[0] - rows[1]
                attn = str(model.config._attn_implementation)
                if attn != choice.attn_implementation:
                    choice = replace(choice, attn_implementation=attn)
                self._hold(choice, processor, model)
            log.info("reranker %s ready in %.1fs", self._model_id, time.perf_counter() - started)

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str | None = None) -> Qwen3VLReranker:
        """The reranker the settings ask for (model id: argument, then VLSEARCH_RERANKER, then 2B).

        Videos longer than `max_query_video_seconds` are refused, as search uploads are.
        """
        return cls(
            model_name_or_path=model or settings.reranker or DEFAULT_RERANKER,
            device=settings.device or None,
            token_budget=settings.rerank_token_budget,
            default_instruction=settings.rerank_instruction,
            max_video_seconds=settings.max_query_video_seconds,
        )

    @classmethod
    def from_loaded(
        cls,
        *,
        processor: Any,
        model: Any,
        yes_no_rows: torch.Tensor,
        model_id: str = "in-memory",
        **kwargs: Any,
    ) -> Qwen3VLReranker:
        """Wrap an already-built backbone (random-weight benchmarks); nothing is read from disk.

        `yes_no_rows` is the (2, hidden) pair of lm_head rows for "yes" and "no".
        """
        import torch

        from vlsearch.models.qwen3vl.backbone import AttentionGuard, special_token_ids

        self = cls(model_name_or_path=model_id, **kwargs)
        param = next(model.parameters())
        self._choice = DeviceChoice(
            device=str(param.device),
            dtype=param.dtype,
            attn_implementation=str(model.config._attn_implementation),
            reason="prebuilt model",
        )
        tok = processor.tokenizer
        rows = yes_no_rows.to(device=model.language_model.norm.weight.device, dtype=torch.float32)
        self._head = rows[0] - rows[1]
        self._special_ids = special_token_ids(tok, model.config)
        self._pad_id = int(tok.pad_token_id)
        self._processor, self._model = processor, model.eval()
        self._guard = AttentionGuard(model_id)
        self._life.mark_ready()
        return self

    def unload(self) -> None:
        with self._lock:
            self._head = None
            super().unload()

    def _single_token_id(self, tokenizer: Any, word: str) -> int:
        ids = tokenizer.encode(word, add_special_tokens=False)
        if len(ids) != 1:
            raise ModelUnavailableError(
                f"{self._model_id}: tokenizer splits {word!r} into {ids}; not a Qwen3-VL reranker"
            )
        return int(ids[0])

    # -- public scoring ----------------------------------------------------------------------
    def process(self, inputs: Mapping[str, Any]) -> list[float]:
        """The seed article's call: {instruction, query, documents, fps, max_frames} -> scores."""
        query = inputs.get("query")
        documents = inputs.get("documents")
        if not query or not documents:
            return []
        return self.score(
            query,
            documents,
            instruction=inputs.get("instruction") or None,
            fps=inputs.get("fps"),
            max_frames=inputs.get("max_frames"),
        )

    def score(
        self,
        query: RerankInput | Mapping[str, Any],
        documents: Sequence[RerankInput | Mapping[str, Any]],
        *,
        instruction: str | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
    ) -> list[float]:
        """One probability in [0, 1] per document, in input order.

        Inputs are checked (files exist, videos within the duration limit) before any model work,
        so a bad request fails the same way whether or not the weights are loaded.
        """
        q = parse_side(query)
        docs = [parse_side(d) for d in documents]
        if q.empty or not docs:
            return []
        self.check_inputs(q, docs)
        encoded = self.encode_pairs(q, docs, instruction=instruction, fps=fps, max_frames=max_frames)
        return self.score_encoded(encoded)

    def check_inputs(self, query: SideContent, documents: Sequence[SideContent]) -> None:
        """Refuse missing media and videos over `max_video_seconds` (naming the setting)."""
        from vlsearch.models.qwen3vl.vision import check_side

        for side in (query, *documents):
            check_side(side, self.limits)

    # -- internals (public for tests and the benchmark) --------------------------------------
    def build_prompt(self, query: SideContent, document: SideContent, instruction: str | None = None) -> str:
        return rerank_prompt(
            side_content(query.texts, len(query.images), len(query.videos)),
            side_content(document.texts, len(document.images), len(document.videos)),
            instruction or self.default_instruction,
        )

    def encode_pairs(
        self,
        query: SideContent,
        documents: Sequence[SideContent],
        *,
        instruction: str | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
    ) -> list[EncodedInput]:
        from vlsearch.models.qwen3vl.backbone import encode
        from vlsearch.models.qwen3vl.vision import fetch_sides

        self.load()
        # query visuals once per call, not per pair; documents' decoded side by side (decord,
        # PIL and torchvision release the GIL), since video stretches cost tens of ms each
        (q_images, q_videos), *doc_visuals = fetch_sides(
            [query, *documents], self.limits, fps=fps, max_frames=max_frames
        )
        out: list[EncodedInput] = []
        for doc, (d_images, d_videos) in zip(documents, doc_visuals, strict=True):
            out.append(
                encode(
                    self._processor,
                    self.build_prompt(query, doc, instruction),
                    images=q_images + d_images,
                    videos=q_videos + d_videos,
                    max_length=self.max_length,
                    special_ids=self._special_ids,
                )
            )
        return out

    def score_encoded(self, encoded: Sequence[EncodedInput], *, batched: bool = True) -> list[float]:
        """Score encoded pairs: length-sorted batches under the token budget, or one per forward."""
        import torch

        from vlsearch.models.qwen3vl.backbone import plan_batches

        self.load()
        scores: list[float] = [0.0] * len(encoded)
        if batched:
            plan = plan_batches(
                [len(e) for e in encoded], token_budget=self.token_budget, max_batch_size=self.max_batch_size
            )
        else:
            plan = [[i] for i in range(len(encoded))]
        with self._lock, torch.inference_mode():
            model, head, guard = self._model, self._head, self._guard
            if model is None or head is None or guard is None:
                raise ModelUnavailableError(
                    f"reranker {self._model_id} was unloaded while scoring; load it again"
                )
            for idx in plan:
                hidden, _ = guard.forward(
                    model, [encoded[i] for i in idx], pad_id=self._pad_id, padding_side="left"
                )
                last = hidden[:, -1, :].to(device=head.device, dtype=torch.float32)
                probs = torch.sigmoid(last @ head).tolist()
                for i, p in zip(idx, probs, strict=True):
                    scores[i] = float(p)
                self.forward_calls += 1
            if guard.fallback and self._choice is not None and self._choice.attn_implementation != "sdpa":
                self._choice = replace(
                    self._choice,
                    attn_implementation="sdpa",
                    reason=f"FA2 failed at run time: {guard.fallback}",
                )
        self.pairs_scored += len(encoded)
        return scores


def _load_error(exc: Exception) -> str:
    # a ModelUnavailableError already says what to do; anything else is named by its type
    return str(exc) if isinstance(exc, ModelUnavailableError) else describe_error(exc)
