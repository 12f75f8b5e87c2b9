"""A reranker reached over HTTP. The peer's kind is named by setting (VLSEARCH_RERANKER_KIND), never
guessed from its URL, and decides the request shape:

* `vlsearch` — another vlsearch's `/v1/rerank` (a GPU node). Ingested images and keyframes go as
  `item_id` references (both instances share one Milvus), query photos/videos are uploaded through
  `/v1/rerank/upload`, and the instruction, fps and max_frames travel with each request.
* `vllm` — `vllm serve <Qwen3-VL-Reranker> --runner pooling` (`/rerank`, `/v1/rerank`): every
  side with media goes as `{"content": [parts]}` with videos, then images, then the text (the
  model's prompt order); images as data: URIs (http(s) URLs as they are, for vLLM to fetch), videos
  as frames sampled here (vLLM runs no qwen-vl-utils) in one `data:video/jpeg;base64,<f1>,<f2>,…`
  URL with `mm_processor_kwargs.do_sample_frames = false`, so the frames sent are the frames seen.
  The instruction goes as `chat_template_kwargs.instruction`, which vLLM's Qwen3-VL reranker
  template and ours (docker/qwen3_vl_reranker.jinja) read where the vLLM version passes request
  kwargs to score templates; elsewhere vLLM uses the template's default instruction.
* `jina` — a Jina-style `/v1/rerank` (jina-reranker-m0): documents `{"text": …}` or
  `{"image": <base64 or URL>}`; the query is its text.
* `cohere` — Cohere's `/v2/rerank` shape: text only; media are represented by their indexed
  text (OCR, captions).

A failed call (after retries) opens a short circuit: for `retry_after_s` the reranker reports
FAILED so searches degrade at once to retrieval order instead of each waiting out the timeouts.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
from PIL import Image

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo, ModelState, RerankInput
from vlsearch.models.gate import unwrap
from vlsearch.rerank.stage import RerankStage
from vlsearch.types import Candidate, Modality

log = logging.getLogger(__name__)

KIND_VLSEARCH = "vlsearch"
KIND_VLLM = "vllm"
KIND_COHERE = "cohere"
KIND_JINA = "jina"
KINDS = (KIND_VLSEARCH, KIND_VLLM, KIND_COHERE, KIND_JINA)
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_FRAME_LONG_SIDE = 1024  # frames sent to vLLM: its processor resizes them further
_DEFAULT_FPS = 1.0
_DEFAULT_MAX_FRAMES = 64  # the official Qwen3-VL-Reranker default


class RemoteRerankerError(ModelUnavailableError):
    """The remote reranker could not score (down, timing out, or refusing the request)."""


@dataclass(frozen=True)
class ItemRef:
    """An ingested item the remote vlsearch resolves itself (its text plus its image/keyframe)."""

    item_id: str

    def __str__(self) -> str:  # the score cache keys references by str()
        return f"vlsearch-item:{self.item_id}"


@dataclass(frozen=True)
class VideoOptions:
    fps: float | None = None
    max_frames: int | None = None


@dataclass(frozen=True)
class PeerAsk:
    """One rerank call as a peer sees it; `files` collects the multipart uploads it names."""

    query: RerankInput
    documents: Sequence[RerankInput]
    instruction: str | None
    video: VideoOptions
    files: dict[str, Path]


class _Peer(Protocol):
    """Builds one kind's request body (and multipart files) for a query and its documents."""

    multimodal: bool

    def request(self, ask: PeerAsk) -> dict[str, Any]: ...


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(
            f"remote reranker kind must be one of {', '.join(KINDS)} (VLSEARCH_RERANKER_KIND), got {kind!r}"
        )
    return kind


class RemoteReranker:
    """Implements the Reranker protocol by POSTing to a remote rerank endpoint of a named kind."""

    name = "reranker"

    def __init__(
        self,
        *,
        url: str,
        kind: str = KIND_VLSEARCH,
        model: str = "",
        api_key: str = "",
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.25,
        retry_after_s: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"reranker URL must start with http:// or https://, got {url!r}")
        if retries < 0 or timeout_s <= 0:
            raise ValueError("retries must be >= 0 and timeout_s > 0")
        self.url = url.rstrip("/")
        self.kind = check_kind(kind)
        if self.kind in (KIND_COHERE, KIND_JINA) and not model:
            raise ValueError(
                f"the {self.kind} rerank API needs a model name: set VLSEARCH_RERANKER to the remote's "
                "model (e.g. rerank-v3.5, jina-reranker-m0)"
            )
        self._peer: _Peer = _PEERS[self.kind]()
        self._model = model
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_s = backoff_s
        self._retry_after_s = retry_after_s
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._error = ""
        self._remote_model = ""

    # -- Reranker protocol -------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self._model or self._remote_model or self.url

    def info(self) -> ModelInfo:
        failing = self._failed_at is not None and time.monotonic() - self._failed_at < self._retry_after_s
        return ModelInfo(
            name=self.name,
            model_id=self.model_id,
            kind="reranker",
            backend=f"remote-{self.kind}",
            state=ModelState.FAILED if failing else ModelState.READY,
            device=self.url,
            dtype="remote",
            multimodal=self._peer.multimodal,
            error=self._error if failing else "",
        )

    def load(self) -> None:
        """Probe the endpoint with a one-pair request; raises RemoteRerankerError when it fails."""
        self.score(RerankInput(text="ping"), [RerankInput(text="ping")])

    def unload(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def score(
        self,
        query: RerankInput,
        documents: Sequence[RerankInput],
        *,
        instruction: str | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
    ) -> list[float]:
        if not documents:
            return []
        files: dict[str, Path] = {}
        video = VideoOptions(fps=fps, max_frames=max_frames)
        payload = self._peer.request(PeerAsk(query, documents, instruction, video, files))
        if self._model:
            payload["model"] = self._model
        body = self._post(payload, files)
        return self._parse(body, len(documents))

    # -- transport ---------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
                self._client = httpx.Client(
                    timeout=self._timeout_s, headers=headers, transport=self._transport
                )
            return self._client

    def _post(self, payload: dict[str, Any], files: dict[str, Path]) -> Any:
        client = self._http()
        last = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                if files:
                    handles = {name: path.open("rb") for name, path in files.items()}
                    try:
                        response = client.post(
                            self.url + "/upload",
                            data={"payload": json.dumps(payload)},
                            files=[("files", (name, fh)) for name, fh in handles.items()],
                        )
                    finally:
                        for fh in handles.values():
                            fh.close()
                else:
                    response = client.post(self.url, json=payload)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}: {_error_message(response)}"
                continue
            if response.status_code >= 400:
                # The remote refused this request; it is up, so the circuit stays closed.
                raise RemoteRerankerError(
                    f"remote reranker {self.url} ({self.kind}) refused the request "
                    f"(HTTP {response.status_code}): {_error_message(response)}"
                )
            self._failed_at, self._error = None, ""
            return response.json()
        self._error = (
            f"remote reranker {self.url} did not answer after {self._retries + 1} attempts ({last}); "
            "check that it runs and VLSEARCH_RERANKER_URL"
        )
        self._failed_at = time.monotonic()
        log.warning("%s", self._error)
        raise RemoteRerankerError(self._error)

    def _parse(self, body: Any, n: int) -> list[float]:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise RemoteRerankerError(f"remote reranker {self.url} answered without a 'results' list")
        if isinstance(body.get("model"), str):
            self._remote_model = body["model"]
        scores: list[float | None] = [None] * n
        for row in results:
            index = row.get("index")
            value = row.get("relevance_score", row.get("score"))
            if not isinstance(index, int) or not 0 <= index < n or value is None:
                raise RemoteRerankerError(f"remote reranker {self.url} sent a malformed result: {row!r}")
            scores[index] = float(value)
        missing = [i for i, s in enumerate(scores) if s is None]
        if missing:
            raise RemoteRerankerError(
                f"remote reranker {self.url} scored {n - len(missing)} of {n} documents; "
                "it must return every document (top_n = all)"
            )
        return [float(s) for s in scores if s is not None]


# -- the peers ---------------------------------------------------------------------------------
class _VlsearchPeer:
    multimodal = True

    def request(self, ask: PeerAsk) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "query": _vlsearch_side(ask.query, ask.files),
            "documents": [_vlsearch_side(d, ask.files) for d in ask.documents],
            "top_n": len(ask.documents),
            "return_documents": False,
        }
        if ask.instruction:
            payload["instruction"] = ask.instruction
        if ask.video.fps is not None:
            payload["fps"] = ask.video.fps
        if ask.video.max_frames is not None:
            payload["max_frames"] = ask.video.max_frames
        return payload


class _VllmPeer:
    multimodal = True

    def request(self, ask: PeerAsk) -> dict[str, Any]:
        sides = [_vllm_side(ask.query, ask.video), *(_vllm_side(d, ask.video) for d in ask.documents)]
        payload: dict[str, Any] = {
            "query": sides[0],
            "documents": sides[1:],
            "top_n": len(ask.documents),
        }
        if ask.instruction:
            payload["chat_template_kwargs"] = {"instruction": ask.instruction}
        if any(_has_video(s) for s in (ask.query, *ask.documents)):
            payload["mm_processor_kwargs"] = {"do_sample_frames": False}
        return payload


class _JinaPeer:
    multimodal = True

    def request(self, ask: PeerAsk) -> dict[str, Any]:
        docs: list[dict[str, str]] = []
        for d in ask.documents:
            images = _refs(d.image)
            if images and not _text_of(d):
                docs.append({"image": _jina_image(images[0])})
            else:
                docs.append({"text": _text_of(d)})
        return {
            "query": _text_of(ask.query),
            "documents": docs,
            "top_n": len(ask.documents),
            "return_documents": False,
        }


class _CoherePeer:
    multimodal = False

    def request(self, ask: PeerAsk) -> dict[str, Any]:
        return {
            "query": _text_of(ask.query),
            "documents": [_text_of(d) for d in ask.documents],
            "top_n": len(ask.documents),
        }


_PEERS: dict[str, type[_Peer]] = {
    KIND_VLSEARCH: _VlsearchPeer,
    KIND_VLLM: _VllmPeer,
    KIND_JINA: _JinaPeer,
    KIND_COHERE: _CoherePeer,
}


class RemoteRerankStage(RerankStage):
    """The rerank stage for a remote vlsearch: ingested media go as item_id references.

    Image and frame rows are stored on the data dir of this instance; the remote shares the same
    Milvus and resolves them itself, so nothing but ids crosses the wire."""

    def document_input(self, cand: Candidate, pool: Sequence[Candidate] = ()) -> RerankInput:
        reranker = unwrap(self.reranker)  # the Runtime's reranker is behind a gate (models.gate)
        if (
            isinstance(reranker, RemoteReranker)
            and reranker.kind == KIND_VLSEARCH
            and cand.item.modality in (Modality.IMAGE, Modality.FRAME)
        ):
            return RerankInput(text=cand.item.text or None, image=ItemRef(cand.item.id))
        return super().document_input(cand, pool)


# -- helpers -----------------------------------------------------------------------------------
def _text_of(side: RerankInput) -> str:
    if side.text is None:
        return ""
    if isinstance(side.text, str):
        return side.text
    return "\n".join(str(t) for t in side.text)


def _refs(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None and v != ""]
    return [value]


def _has_video(side: RerankInput) -> bool:
    return bool(_refs(side.video))


def _vlsearch_side(side: RerankInput, files: dict[str, Path]) -> str | dict[str, Any]:
    text = _text_of(side)
    content: dict[str, Any] = {}
    images: list[str] = []
    for ref in _refs(side.image):
        if isinstance(ref, ItemRef):
            # The remote adds the item's own text, so ours would be a duplicate.
            content["item_id"] = ref.item_id
            text = ""
        else:
            images.append(_upload_name(ref, files))
    if side.video is not None and not isinstance(side.video, (list, tuple)):
        content["video"] = _upload_name(side.video, files)
    elif isinstance(side.video, (list, tuple)) and side.video:
        # A frame sequence has no upload form; its first frame stands for it.
        images.append(_upload_name(side.video[0], files))
    if images:
        content["image"] = images
    if text:
        content["text"] = text
    if set(content) == {"text"}:
        return text
    return content or " "


def _vllm_side(side: RerankInput, video: VideoOptions) -> str | dict[str, Any]:
    """A side as vLLM's ScoreMultiModalParam: videos, then images, then text (the model's order)."""
    text = _text_of(side)
    parts: list[dict[str, Any]] = []
    if isinstance(side.video, (list, tuple)):
        if side.video:
            parts.append(_video_part(_thin(list(side.video), video.max_frames)))
    elif side.video is not None:
        parts.append(_video_part(_sample_video(side.video, video)))
    for ref in _refs(side.image):
        parts.append({"type": "image_url", "image_url": {"url": _image_url(ref)}})
    if not parts:
        return text
    if text:
        parts.append({"type": "text", "text": text})
    return {"content": parts}


def _video_part(frames: Sequence[object]) -> dict[str, Any]:
    encoded = [_jpeg_b64(_as_image(f), long_side=_FRAME_LONG_SIDE) for f in frames]
    if len(encoded) % 2:  # Qwen3-VL's temporal patch pairs frames: an even count, as qwen-vl-utils pads
        encoded.append(encoded[-1])
    return {"type": "video_url", "video_url": {"url": "data:video/jpeg;base64," + ",".join(encoded)}}


def _thin(frames: list[object], max_frames: int | None) -> list[object]:
    """At most max_frames, evenly spread (np.linspace, as the official code thins frame lists)."""
    k = max_frames or _DEFAULT_MAX_FRAMES
    if len(frames) <= k:
        return frames
    return [frames[i] for i in np.linspace(0, len(frames) - 1, k, dtype=int)]


def _sample_video(ref: object, video: VideoOptions) -> list[Image.Image]:
    """Frames of a video file at `fps` (default 1), thinned to max_frames (default 64)."""
    from vlsearch.media.video import iter_frames, probe_video

    if not isinstance(ref, (str, Path)) or str(ref).startswith(("http://", "https://")):
        raise RemoteRerankerError(
            f"the vllm reranker takes videos as frames sampled here; got {ref!r}, which is not a local file"
        )
    path = Path(str(ref).removeprefix("file://"))
    info = probe_video(path)
    fps = video.fps or _DEFAULT_FPS
    frames = [f.image() for f in iter_frames(path, info, step=1.0 / fps, backend="pyav")]
    if not frames:
        raise RemoteRerankerError(f"no frames could be decoded from {path.name}")
    thinned = _thin(list(frames), video.max_frames)
    return [f for f in thinned if isinstance(f, Image.Image)]


def _as_image(ref: object) -> Image.Image:
    if isinstance(ref, Image.Image):
        return ref
    if isinstance(ref, (str, Path)):
        with Image.open(Path(str(ref).removeprefix("file://"))) as img:
            return img.convert("RGB")
    raise RemoteRerankerError(f"cannot send a {type(ref).__name__} as an image")


def _jpeg_b64(image: Image.Image, *, long_side: int | None = None) -> str:
    img = image.convert("RGB")
    if long_side and max(img.size) > long_side:
        img.thumbnail((long_side, long_side))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}


def _image_url(ref: object) -> str:
    """An image as a URL vLLM can load: http(s) URLs and data: URIs as they are, files inline."""
    if isinstance(ref, str) and ref.startswith(("http://", "https://", "data:")):
        return ref
    if isinstance(ref, (str, Path)):
        data = Path(str(ref).removeprefix("file://")).read_bytes()
        mime = next((m for magic, m in _MIME.items() if data.startswith(magic)), None)
        if mime is not None:
            return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return "data:image/jpeg;base64," + _jpeg_b64(_as_image(ref))


def _jina_image(ref: object) -> str:
    """Jina takes an image as a URL or as bare base64."""
    url = _image_url(ref)
    return url.split(",", 1)[1] if url.startswith("data:") else url


def _upload_name(ref: object, files: dict[str, Path]) -> str:
    if not isinstance(ref, (str, Path)):
        raise RemoteRerankerError(
            f"the remote reranker takes media as files; got a {type(ref).__name__} (save it to a file first)"
        )
    text = str(ref)
    if text.startswith(("http://", "https://")):
        return text  # the remote fetches it if its allow-list permits
    path = Path(text.removeprefix("file://"))
    if not path.is_file():
        raise RemoteRerankerError(f"media file {path} does not exist; it cannot go to the remote reranker")
    name = f"m{len(files)}{path.suffix[:8]}"
    files[name] = path
    return f"upload:{name}"


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and "message" in err:
            return str(err["message"])
        if "detail" in body:
            return str(body["detail"])[:300]
    return str(body)[:300]
