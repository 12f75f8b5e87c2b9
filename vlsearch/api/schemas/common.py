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
        # 400/409/415 come from VlsearchError subclasses (a refused filter value or file, a name
        # conflict, an unsupported type); undocumented they broke clients generated from the schema.
        (400, "Input refused; the message says what to change"),
        (401, "Missing or unknown API key"),
        (403, "Not allowed for the caller"),
        (404, "Not found, or not visible to the caller's groups"),
        (409, "Conflicts with an existing resource"),
        (413, "Request body over the named limit"),
        (415, "Unsupported media type"),
        (422, "Invalid request; the message says which fields to change"),
        (503, "Milvus or a model is unavailable"),
    )
}
