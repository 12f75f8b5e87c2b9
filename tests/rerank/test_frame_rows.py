"""Frame rows rerank as the stretch of their source video (video_start / video_end), else keyframes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from vlsearch.catalog import Catalog, DocStatus
from vlsearch.config import get_settings
from vlsearch.models.qwen3vl.inputs import VideoClip, parse_side
from vlsearch.rerank import Qwen3VLReranker, RerankStage, ScoreCache
from vlsearch.rerank.sources import SourceVideos
from vlsearch.types import Candidate, Document, Item, Locator, Modality


def _frame(i: int, t0: float, t1: float, *, source: str, doc: str = "doc-vid") -> Candidate:
    item = Item(
        id=f"{doc}-f{i}",
        doc_id=doc,
        modality=Modality.FRAME,
        text=f"frame {i}",
        locator=Locator(t_start=t0, t_end=t1, index=i),
        source=source,
        name=Path(source).name,
        doc_type="video",
        groups=(),
        media=f"media/{doc}/kf{i}.png",
    )
    return Candidate(item=item, score=1.0 - i / 10)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Path:
    root = tmp_path_factory.mktemp("frames-data")
    (root / "media" / "doc-vid").mkdir(parents=True)
    for i in range(3):
        shutil.copy(media[f"frame{i}"], root / "media" / "doc-vid" / f"kf{i}.png")
    return root


def test_frame_row_is_the_source_stretch_between_its_neighbours(
    reranker: Qwen3VLReranker, data_dir: Path, media: dict[str, Path]
) -> None:
    video = str(media["video"])  # 3 s
    pool = [
        _frame(0, 0.0, 1.0, source=video),
        _frame(1, 1.0, 2.0, source=video),
        _frame(2, 2.0, 3.0, source=video),
    ]
    stage = RerankStage(reranker=reranker, media_root=data_dir, video_source=lambda item: item.source)
    doc = stage.document_input(pool[1], pool)
    assert doc.video == VideoClip(path=video, start=0.0, end=3.0) and doc.text == "frame 1"
    first = stage.document_input(pool[0], pool)
    assert first.video == VideoClip(path=video, start=0.0, end=2.0)
    # scored end to end: qwen-vl-utils samples the stretch of the file
    scores = reranker.score({"text": "rack"}, [doc, first])
    assert len(scores) == 2 and scores[0] != scores[1]
    # no readable source: the stored neighbouring keyframes as a frame list
    fallback = RerankStage(reranker=reranker, media_root=data_dir, video_source=lambda _item: None)
    frames = fallback.document_input(pool[1], pool).video
    assert frames == [str((data_dir / f"media/doc-vid/kf{i}.png").resolve()) for i in range(3)]


def test_clip_cache_key_follows_stretch_and_content(tmp_path: Path, media: dict[str, Path]) -> None:
    cache = ScoreCache()
    copy = tmp_path / "v.mp4"
    shutil.copy(media["video"], copy)
    a = cache.content_hash(parse_side({"video": VideoClip(str(copy), 0.0, 2.0)}))
    assert a == cache.content_hash(parse_side({"video": VideoClip(str(media["video"]), 0.0, 2.0)}))
    assert a != cache.content_hash(parse_side({"video": VideoClip(str(copy), 1.0, 2.0)}))


def test_source_videos_resolves_only_readable_unchanged_sources_in_allowed_roots(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    data, allowed, outside = tmp_path / "data", tmp_path / "docs", tmp_path / "elsewhere"
    for folder in (data, allowed, outside):
        folder.mkdir()
    settings = get_settings(data_dir=data, allowed_roots=[allowed])
    catalog = Catalog(url=f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.open()
    raw = media["video"].read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    upload = data / "uploads" / sha[:24] / "clip.mp4"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(raw)
    on_disk, away, broken = allowed / "clip.mp4", outside / "clip.mp4", allowed / "broken.mp4"
    for path in (on_disk, away):
        path.write_bytes(raw)
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256)
    docs = {
        "up": ("upload:clip.mp4", raw),
        "disk": (str(on_disk), raw),
        "away": (str(away), raw),
        "broken": (str(broken), broken.read_bytes()),
    }
    for doc_id, (source, content) in docs.items():
        doc = Document(
            id=doc_id,
            source=source,
            name="clip.mp4" if doc_id != "broken" else "broken.mp4",
            sha256=hashlib.sha256(content).hexdigest(),
            doc_type="video",
            groups=(),
            size_bytes=len(content),
        )
        catalog.put_document(doc, status=DocStatus.READY)
    sources = SourceVideos(settings=settings, catalog=catalog)

    def item(doc_id: str) -> Item:
        return _frame(0, 0.0, 1.0, source=docs[doc_id][0], doc=doc_id).item

    assert sources(item("up")) == str(upload.resolve())
    assert sources(item("disk")) == str(on_disk.resolve())
    assert sources(item("away")) is None  # outside the allowed roots
    assert sources(item("broken")) is None  # not a readable video
    on_disk.write_bytes(raw + b"\x00" * 10)  # replaced since ingest: keyframe times would not match
    assert sources(item("disk")) is None
    on_disk.unlink()
    assert sources(item("disk")) is None
    catalog.close()
