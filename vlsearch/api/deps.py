"""FastAPI dependencies: the Runtime, the per-app services, and the authenticated caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request

from vlsearch.api.auth import Caller, is_loopback, key_from_headers
from vlsearch.api.errors import ApiError, forbidden
from vlsearch.api.state import ApiState

if TYPE_CHECKING:
    from vlsearch.runtime import Runtime


def get_state(request: Request) -> ApiState:
    state: ApiState | None = getattr(request.app.state, "api", None)
    if state is None:
        raise ApiError("starting", "The server is still starting; retry in a moment.", status=503)
    state.ensure_store()
    return state


def get_runtime(request: Request) -> Runtime:
    return get_state(request).runtime


def get_caller(
    request: Request,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key", include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    state = get_state(request)
    if not state.keyring.enabled:
        # Auth off is only safe on loopback; refuse anything else even if a proxy forwards it here.
        client = request.client.host if request.client else ""
        if not is_loopback(client):
            raise forbidden(
                "This server has no API keys configured and only serves loopback clients; "
                "set VLSEARCH_API_KEYS to serve other hosts."
            )
        return Caller(groups=None)
    return state.keyring.authenticate(key_from_headers(x_api_key, authorization))


def get_optional_caller(
    request: Request,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key", include_in_schema=False)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller | None:
    """For health endpoints: a valid key (or auth off) unlocks details; no key gets the bare status."""
    state = get_state(request)
    if not state.keyring.enabled:
        return get_caller(request, x_api_key, authorization)
    presented = key_from_headers(x_api_key, authorization)
    if presented is None:
        return None
    return state.keyring.authenticate(presented)


def get_admin(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    """Operations on what every user shares (loading and unloading the models)."""
    if not caller.is_admin:
        raise forbidden(
            "This needs an administrator's key (role 'admin' in VLSEARCH_API_KEYS); your key may search "
            "and upload, but not change what other users share."
        )
    return caller


def get_metrics_reader(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if not caller.may_scrape_metrics:
        raise forbidden(
            "/metrics shows the whole deployment's activity: it needs a key with role 'metrics' or "
            "'admin' in VLSEARCH_API_KEYS."
        )
    return caller


StateDep = Annotated[ApiState, Depends(get_state)]
CallerDep = Annotated[Caller, Depends(get_caller)]
AdminDep = Annotated[Caller, Depends(get_admin)]
MetricsReaderDep = Annotated[Caller, Depends(get_metrics_reader)]
OptionalCallerDep = Annotated[Caller | None, Depends(get_optional_caller)]
