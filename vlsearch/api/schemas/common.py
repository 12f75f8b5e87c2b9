from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """Requests reject unknown fields so a typo is an error, not a silently ignored option."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorBody(ResponseModel):
    code: str
    message: str
    detail: Any = None


class ErrorEnvelope(ResponseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in (
        (401, "Missing or unknown API key"),
        (404, "Not found, or not visible to the caller's groups"),
        (413, "Request body over the named limit"),
        (422, "Invalid request; the message says which fields to change"),
        (503, "Milvus or a model is unavailable"),
    )
}
