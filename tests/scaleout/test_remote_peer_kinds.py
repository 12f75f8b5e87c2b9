"""The remote reranker's peer kinds, each against a local stub that checks the request it receives:
vLLM (`vllm serve <Qwen3-VL-Reranker> --runner pooling`), Jina and Cohere. The vlsearch kind runs
against a real second vlsearch in test_remote_reranker.py."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlsearch.models.base import RerankInput
from vlsearch.models.qwen3vl.prompt import IMAGE_PLACEHOLDER, rerank_prompt
from vlsearch.rerank.remote import RemoteReranker, check_kind

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stub:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture()
def stub() -> Iterator[Stub]:
    """Answers like vLLM: results sorted by score (here 1 / (index + 2)), index pointing back."""
    box = Stub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            box.requests.append(body)
            box.headers.append(dict(self.headers))
            n = len(body["documents"])
            results = [
                {"index": i, "relevance_score": 1.0 / (i + 2), "document": {"text": None}} for i in range(n)
            ]
            results.reverse()  # best first in the answer is not index order: the client must use index
            out = json.dumps(
                {"id": "rerank-1", "model": "stub-model", "usage": {"total_tokens": 7}, "results": results}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(out.encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/rerank"
    try:
        yield box
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from vlsearch.demo.media import racking_scene, racking_video

    out = tmp_path_factory.mktemp("peer-media")
    photo = out / "photo.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo)
    frames = []
    for i in range(3):
        path = out / f"frame{i}.jpg"
        racking_scene(i, (320, 180)).save(path, quality=90)
        frames.append(path)
    video = racking_video(out / "clip.mp4", seconds_per_step=1.0, fps=2, size=(320, 180))  # 4 s
    return {"photo": photo, "video": video, **{f"frame{i}": p for i, p in enumerate(frames)}}


def _decode_image(url: str, mime: str) -> Image.Image:
    head, _, data = url.partition(",")
    assert head == f"data:{mime};base64", head
    return Image.open(io.BytesIO(base64.b64decode(data)))


def _frames(url: str) -> list[Image.Image]:
    head, _, data = url.partition(",")
    assert head == "data:video/jpeg;base64"
    return [Image.open(io.BytesIO(base64.b64decode(part))) for part in data.split(",")]


def test_vllm_kind_sends_qwen3_vl_content_parts(stub: Stub, media: dict[str, Path]) -> None:
    reranker = RemoteReranker(url=stub.url, kind="vllm", model="Qwen/Qwen3-VL-Reranker-2B", api_key="k-1")
    query = RerankInput(text="rack warning light", image=str(media["photo"]))
    docs = [
        RerankInput(text="plain text document"),
        RerankInput(text="a figure", image=str(media["photo"])),
        RerankInput(video=str(media["video"])),
        RerankInput(text="three keyframes", video=[str(media[f"frame{i}"]) for i in range(3)]),
    ]
    scores = reranker.score(query, docs, instruction="找出最匹配的操作指南。", fps=1.0, max_frames=8)
    assert scores == pytest.approx([1 / 2, 1 / 3, 1 / 4, 1 / 5])  # by index, not by answer order
    body = stub.requests[0]
    assert stub.headers[0]["Authorization"] == "Bearer k-1"
    assert body["model"] == "Qwen/Qwen3-VL-Reranker-2B" and body["top_n"] == 4
    assert body["chat_template_kwargs"] == {"instruction": "找出最匹配的操作指南。"}
    assert body["mm_processor_kwargs"] == {"do_sample_frames": False}  # frames were sampled here
    # query: the image first, then the text (the model's order: videos, images, texts)
    q = body["query"]["content"]
    assert [p["type"] for p in q] == ["image_url", "text"] and q[1]["text"] == "rack warning light"
    assert _decode_image(q[0]["image_url"]["url"], "image/png").size == (64, 48)
    d0, d1, d2, d3 = body["documents"]
    assert d0 == "plain text document"  # a text-only side stays a plain string
    assert [p["type"] for p in d1["content"]] == ["image_url", "text"]
    assert [p["type"] for p in d2["content"]] == ["video_url"]
    # a 4-second file at fps 1: 4 frames, sampled here (even count, as qwen-vl-utils pads)
    sampled = _frames(d2["content"][0]["video_url"]["url"])
    assert len(sampled) == 4 and sampled[0].size == (320, 180)
    # a list of keyframes goes as they are, padded to an even count with the last one
    listed = _frames(d3["content"][0]["video_url"]["url"])
    assert len(listed) == 4 and [p["type"] for p in d3["content"]] == ["video_url", "text"]
    assert reranker.info().backend == "remote-vllm" and reranker.info().multimodal


def test_vllm_kind_thins_long_videos_and_leaves_urls_to_vllm(stub: Stub, media: dict[str, Path]) -> None:
    reranker = RemoteReranker(url=stub.url, kind="vllm")
    url = "https://media.example/photo.jpg"
    reranker.score(
        RerankInput(text="q"),
        [RerankInput(image=url), RerankInput(video=str(media["video"]))],
        fps=2.0,
        max_frames=4,
    )
    body = stub.requests[0]
    assert "model" not in body and "chat_template_kwargs" not in body
    assert body["documents"][0] == {"content": [{"type": "image_url", "image_url": {"url": url}}]}
    assert len(_frames(body["documents"][1]["content"][0]["video_url"]["url"])) == 4  # 8 at fps 2, thinned


def test_jina_and_cohere_kinds(stub: Stub, media: dict[str, Path]) -> None:
    jina = RemoteReranker(url=stub.url, kind="jina", model="jina-reranker-m0")
    jina.score(RerankInput(text="q"), [RerankInput(text="t"), RerankInput(image=str(media["photo"]))])
    body = stub.requests[-1]
    assert body["model"] == "jina-reranker-m0" and body["query"] == "q" and body["return_documents"] is False
    assert body["documents"][0] == {"text": "t"}
    raw = base64.b64decode(body["documents"][1]["image"])  # Jina takes bare base64
    assert raw == media["photo"].read_bytes()

    cohere = RemoteReranker(url=stub.url, kind="cohere", model="rerank-v3.5")
    cohere.score(
        RerankInput(text="q"), [RerankInput(text="t", image=str(media["photo"])), RerankInput(text="u")]
    )
    assert stub.requests[-1] == {"query": "q", "documents": ["t", "u"], "top_n": 2, "model": "rerank-v3.5"}
    assert not cohere.info().multimodal
    with pytest.raises(ValueError, match="needs a model name"):
        RemoteReranker(url=stub.url, kind="cohere")


def test_the_kind_is_named_never_guessed() -> None:
    assert (
        RemoteReranker(url="http://vllm:8000/v1/rerank").kind == "vlsearch"
    )  # the default, whatever the URL
    with pytest.raises(ValueError, match="vlsearch, vllm, cohere, jina"):
        check_kind("text")


def test_the_shipped_vllm_chat_template_renders_the_official_prompt() -> None:
    """docker/qwen3_vl_reranker.jinja, rendered as transformers renders chat templates (trim_blocks,
    lstrip_blocks, one trailing newline dropped), gives exactly the reranker's prompt."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string((ROOT / "docker" / "qwen3_vl_reranker.jinja").read_text(encoding="utf-8"))
    messages = [
        {"role": "query", "content": "如何更换电源模块"},
        {"role": "document", "content": IMAGE_PLACEHOLDER + "PSU"},
    ]
    assert template.render(messages=messages) == rerank_prompt("如何更换电源模块", IMAGE_PLACEHOLDER + "PSU")
    custom = template.render(messages=messages, instruction="找出最匹配的操作指南。")
    assert custom == rerank_prompt("如何更换电源模块", IMAGE_PLACEHOLDER + "PSU", "找出最匹配的操作指南。")
