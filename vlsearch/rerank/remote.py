"""A reranker reached over HTTP: any Jina/Cohere-style `/rerank` endpoint.

Two kinds of remote:

* `vlsearch` — another vlsearch's `/v1/rerank` (a GPU node). Ingested images and keyframes are sent
  as `item_id` references (both instances share one Milvus), query photos/videos are uploaded
  through `/v1/rerank/upload`, and the instruction travels with each request.
* `text` — a plain Jina/Cohere/vLLM `/rerank` (e.g. vLLM serving Qwen3-VL-Reranker): documents are
  sent as strings, media are represented by their indexed text (OCR, captions).

A failed call (after retries) opens a short circuit: for `retry_after_s` the reranker reports
FAILED so searches degrade at once to retrieval order instead of each waiting out the timeouts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from vlsearch.errors import ModelUnavailableError
from vlsearch.models.base import ModelInfo, ModelState, RerankInput
from vlsearch.rerank.stage import RerankStage
from vlsearch.types import Candidate, Modality

log = logging.getLogger(__name__)

KIND_VLSEARCH = "vlsearch"
KIND_TEXT = "text"
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class RemoteRerankerError(ModelUnavailableError):
    """The remote reranker could not score (down, timing out, or refusing the request)."""


@dataclass(frozen=True)
class ItemRef:
    """An ingested item the remote vlsearch resolves itself (its text plus its image/keyframe)."""

    item_id: str

    def __str__(self) -> str:  # the score cache keys references by str()
        return f"vlsearch-item:{self.item_id}"


def remote_kind(url: str, kind: str = "auto") -> str:
    """`auto` means vlsearch when the URL is a vlsearch `/v1/rerank`, else plain text."""
    if kind in (KIND_VLSEARCH, KIND_TEXT):
        return kind
    if kind != "auto":
        raise ValueError(f"remote reranker kind must be auto, vlsearch or text, got {kind!r}")
    return KIND_VLSEARCH if url.rstrip("/").endswith("/v1/rerank") else KIND_TEXT


class RemoteReranker:
    """Implements the Reranker protocol by POSTing to a remote `/rerank` endpoint."""

    name = "reranker"

    def __init__(
        self,
        *,
        url: str,
        model: str = "",
        api_key: str = "",
        kind: str = "auto",
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
        self.kind = remote_kind(self.url, kind)
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
            multimodal=self.kind == KIND_VLSEARCH,
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
        self, query: RerankInput, documents: Sequence[RerankInput], *, instruction: str | None = None
    ) -> list[float]:
        if not documents:
            return []
        payload, files = self._request(query, documents, instruction)
        body = self._post(payload, files)
        return self._parse(body, len(documents))

    # -- request building --------------------------------------------------------------------
    def _request(
        self, query: RerankInput, documents: Sequence[RerankInput], instruction: str | None
    ) -> tuple[dict[str, Any], dict[str, Path]]:
        files: dict[str, Path] = {}
        if self.kind == KIND_VLSEARCH:
            payload: dict[str, Any] = {
                "query": self._vlsearch_side(query, files),
                "documents": [self._vlsearch_side(d, files) for d in documents],
                "top_n": len(documents),
                "return_documents": False,
            }
            if instruction:
                payload["instruction"] = instruction
        else:
            payload = {
                "query": _text_of(query),
                "documents": [_text_of(d) for d in documents],
                "top_n": len(documents),
            }
        if self._model:
            payload["model"] = self._model
        return payload, files

    def _vlsearch_side(self, side: RerankInput, files: dict[str, Path]) -> str | dict[str, Any]:
        text = _text_of(side)
        refs = [side.image] if not isinstance(side.image, (list, tuple)) else list(side.image)
        content: dict[str, Any] = {}
        images: list[str] = []
        for ref in refs:
            if ref is None or ref == "":
                continue
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
                    f"remote reranker {self.url} refused the request (HTTP {response.status_code}): "
                    f"{_error_message(response)}"
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


class RemoteRerankStage(RerankStage):
    """The rerank stage for a remote vlsearch: ingested media go as item_id references.

    Image and frame rows are stored on the data dir of this instance; the remote shares the same
    Milvus and resolves them itself, so nothing but ids crosses the wire."""

    def document_input(self, cand: Candidate, pool: Sequence[Candidate] = ()) -> RerankInput:
        reranker = self.reranker
        if (
            isinstance(reranker, RemoteReranker)
            and reranker.kind == KIND_VLSEARCH
            and cand.item.modality in (Modality.IMAGE, Modality.FRAME)
        ):
            return RerankInput(text=cand.item.text or None, image=ItemRef(cand.item.id))
        return super().document_input(cand, pool)


def _text_of(side: RerankInput) -> str:
    if side.text is None:
        return ""
    if isinstance(side.text, str):
        return side.text
    return "\n".join(str(t) for t in side.text)


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
