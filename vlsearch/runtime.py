"""Wires the components for one process (API server or CLI command).

Building a Runtime is cheap: no model is loaded and nothing is connected until `start()`, and the
models themselves load on first use or through `models.load(name)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vlsearch.catalog import Catalog
from vlsearch.config import Profile, Settings
from vlsearch.evidence.highlight import Highlighter
from vlsearch.ingest.pipeline import IngestPipeline
from vlsearch.ingest.visual import VisualEnricher
from vlsearch.media.ocr import OcrEngine
from vlsearch.milvus import Store
from vlsearch.milvus.lite_noise import silence_expected_unimplemented
from vlsearch.models.base import Embedder, Reranker
from vlsearch.models.gate import GuardedEmbedder, GuardedReranker
from vlsearch.models.manager import ModelRegistry
from vlsearch.models.profiles import ProfileChoice, choose_profile
from vlsearch.models.registry import build_embedder
from vlsearch.retrieve.query_media import QueryMediaReader
from vlsearch.retrieve.searcher import Searcher
from vlsearch.service import SearchService

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    profile: ProfileChoice
    store: Store
    catalog: Catalog
    embedder: Embedder
    reranker: Reranker | None
    models: ModelRegistry
    ocr: OcrEngine
    pipeline: IngestPipeline
    search: SearchService

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        profile = choose_profile(settings)
        # every stage gets the guarded models: an unload waits for the calls using them (models.gate)
        embedder: Embedder = GuardedEmbedder(
            build_embedder(settings.model_copy(update={"embedder": profile.embedder}))
        )
        built = _build_reranker(settings, profile)
        reranker: Reranker | None = GuardedReranker(built) if built is not None else None
        store = Store(
            uri=settings.resolved_milvus_uri,
            token=settings.milvus_token.get_secret_value(),
            dim=embedder.dim,
            embedder_id=embedder.model_id,
            connect_timeout_s=settings.milvus_connect_timeout_s,
            secure=settings.milvus_secure,
            server_pem_path=settings.milvus_server_pem_path,
            server_name=settings.milvus_server_name,
            memory_index=settings.milvus_lite_memory_index,
            index_snapshot=settings.milvus_lite_index_snapshot,
        )
        catalog = Catalog(url=settings.resolved_catalog_url)
        ocr = OcrEngine()
        pipeline = IngestPipeline(
            settings=settings,
            store=store,
            catalog=catalog,
            embedder=embedder,
            enricher=VisualEnricher(ocr=ocr),
        )
        searcher = Searcher(store=store, embedder=embedder, settings=settings)
        query_media = QueryMediaReader(ocr=ocr, settings=settings)
        rerank_stage = None
        if reranker is not None:
            from vlsearch.rerank.cache import ScoreCache
            from vlsearch.rerank.remote import RemoteRerankStage
            from vlsearch.rerank.sources import SourceVideos
            from vlsearch.rerank.stage import RerankStage

            stage_cls = RemoteRerankStage if settings.reranker_url else RerankStage
            rerank_stage = stage_cls(
                reranker=reranker,
                media_root=settings.data_dir,
                top_n=settings.rerank_top_n,
                cache=ScoreCache(),
                instruction=settings.rerank_instruction,
                # frame rows as stretches of their source video; a remote reranker gets keyframes
                video_source=None
                if settings.reranker_url
                else SourceVideos(settings=settings, catalog=catalog),
            )
        search = SearchService(
            searcher=searcher,
            query_media=query_media,
            rerank_stage=rerank_stage,
            # a GPU reranker loads on first use; on CPU only an explicit load (it is slow there)
            rerank_autoload=profile.profile is Profile.GPU or bool(settings.reranker_url),
            catalog=catalog,
            highlighter=Highlighter(),
        )
        return cls(
            settings=settings,
            profile=profile,
            store=store,
            catalog=catalog,
            embedder=embedder,
            reranker=reranker,
            models=ModelRegistry(embedder=embedder, reranker=reranker),
            ocr=ocr,
            pipeline=pipeline,
            search=search,
        )

    def start(self) -> None:
        """Create the data dir, open the catalog and connect the store. Safe to call twice."""
        silence_expected_unimplemented()  # Milvus Lite's server logs pymilvus's probes as errors
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.media_dir.mkdir(parents=True, exist_ok=True)
        self.catalog.open()
        self.store.connect()

    def close(self) -> None:
        self.pipeline.close()
        self.store.close()
        self.catalog.close()


def _build_reranker(settings: Settings, profile: ProfileChoice) -> Reranker | None:
    if settings.reranker_url:
        # Remote: no weights here, whatever the profile (a CPU API node in front of a GPU reranker).
        from vlsearch.rerank.remote import RemoteReranker

        return RemoteReranker(
            url=settings.reranker_url,
            model=settings.reranker,
            api_key=settings.reranker_api_key.get_secret_value(),
            kind=settings.reranker_kind,
            timeout_s=settings.reranker_timeout_s,
            retries=settings.reranker_retries,
        )
    if not profile.reranker:
        return None
    from vlsearch.rerank import Qwen3VLReranker

    return Qwen3VLReranker.from_settings(settings, model=profile.reranker)
