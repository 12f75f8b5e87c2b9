from __future__ import annotations

from pydantic import Field

from vlsearch.api.schemas.common import ResponseModel
from vlsearch.api.schemas.models import ModelOut


class HealthOut(ResponseModel):
    status: str
    version: str
    profile: str | None = None
    profile_reason: str | None = None
    milvus_uri: str | None = None
    auth: str | None = Field(default=None, description="'api-keys' or 'off (loopback only)'")
    models: list[ModelOut] | None = None
    counts: dict[str, int] | None = Field(
        default=None,
        description="documents per status visible to the caller; for an admin also rows per collection "
        "and pending jobs",
    )


class ReadyOut(ResponseModel):
    ready: bool
    store: str
    catalog: str
    models: dict[str, str] | None = None


class LimitsOut(ResponseModel):
    max_query_video_seconds: float
    max_query_images: int = Field(description="Photos one search query takes")
    max_video_seconds: float
    max_file_bytes: int
    query_upload_bytes: int
    document_upload_bytes: int
    json_body_bytes: int
    default_top_k: int
    auth: bool = Field(description="True when an API key is required")
