"""HTTP API and web UI: `create_app(settings)` and `serve(settings)` (see vlsearch.api.app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vlsearch.api.app import create_app, serve

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    # Importing the package stays free; FastAPI and the routers load on first use.
    if name in __all__:
        from vlsearch.api import app

        return getattr(app, name)
    raise AttributeError(name)
