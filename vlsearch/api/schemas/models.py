from __future__ import annotations

from vlsearch.api.schemas.common import ResponseModel


class ModelOut(ResponseModel):
    name: str
    model_id: str
    kind: str
    backend: str
    state: str
    device: str
    dtype: str
    dim: int | None = None
    multimodal: bool = False
    error: str = ""


class ModelList(ResponseModel):
    models: list[ModelOut]
