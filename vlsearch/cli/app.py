"""The `vlsearch` Typer app and what every command shares: logging, a started Runtime, group lists."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from vlsearch.config import Settings
from vlsearch.errors import VlsearchError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Multimodal document search.")
console = Console()
err = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "urllib3", "jieba", "pymilvus", "RapidOCR", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    _setup_logging(verbose)


@contextmanager
def open_runtime(settings: Settings) -> Iterator:  # type: ignore[type-arg]
    from vlsearch.runtime import Runtime

    runtime = Runtime.from_settings(settings)
    try:
        runtime.start()
    except VlsearchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except Exception as exc:
        if "DataDirLocked" in type(exc).__name__ or "locked" in str(exc).lower():
            err.print(
                f"[red]error:[/red] {settings.resolved_milvus_uri} is in use by another process "
                "(Milvus Lite allows one process per data dir). Add --api http://127.0.0.1:8000 to go "
                "through the running server, stop `vlsearch serve`, or use a Milvus server URI."
            )
            raise typer.Exit(2) from exc
        raise
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def exit_on(*errors: type[Exception]) -> Iterator[None]:
    """A known failure (a VlsearchError unless `errors` names others) as one red line and exit 2."""
    caught = errors or (VlsearchError,)
    try:
        yield
    except caught as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def parse_groups(value: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in value.split(",") if g.strip())
