"""List models and load / unload them at run time (the UI's "Load model" button)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from vlsearch.api.deps import AdminDep, CallerDep, StateDep
from vlsearch.api.schemas.common import ERROR_RESPONSES
from vlsearch.api.schemas.models import ModelList, ModelOut
from vlsearch.models.base import ModelInfo, ModelState

router = APIRouter(prefix="/v1/models", tags=["models"], responses=ERROR_RESPONSES)


def model_out(info: ModelInfo) -> ModelOut:
    return ModelOut(
        name=info.name,
        model_id=info.model_id,
        kind=info.kind,
        backend=info.backend,
        state=info.state.value,
        device=info.device,
        dtype=info.dtype,
        dim=info.dim,
        multimodal=info.multimodal,
        error=info.error,
    )


@router.get("", response_model=ModelList, summary="Models and their load state")
def list_models(state: StateDep, caller: CallerDep) -> ModelList:
    return ModelList(models=[model_out(i) for i in state.loader.list()])


@router.get("/{name}", response_model=ModelOut, summary="One model")
def get_model(name: str, state: StateDep, caller: CallerDep) -> ModelOut:
    return model_out(state.loader.info(name))


@router.post(
    "/{name}/load",
    response_model=ModelOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start loading a model (admin); poll GET /v1/models/{name} until state is ready",
)
def load_model(name: str, state: StateDep, caller: AdminDep) -> JSONResponse:
    info = state.loader.start_load(name)
    code = status.HTTP_200_OK if info.state == ModelState.READY else status.HTTP_202_ACCEPTED
    return JSONResponse(model_out(info).model_dump(), status_code=code)


@router.post(
    "/{name}/unload",
    response_model=ModelOut,
    summary="Free a model's memory (admin); waits for the work using it, new work meanwhile gets 503",
)
def unload_model(name: str, state: StateDep, caller: AdminDep) -> ModelOut:
    return model_out(state.loader.unload(name))
