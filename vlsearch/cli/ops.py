"""Operations: check and repair (doctor), export and import a deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vlsearch.cli.app import app, console, exit_on, open_runtime
from vlsearch.config import get_settings


@app.command()
def doctor(
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what is found (stop the server first).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check that the catalog, the Milvus rows and the media files agree; exit 1 if not."""
    from vlsearch.ops.doctor import Doctor

    with open_runtime(get_settings()) as runtime:
        doc = Doctor(
            settings=runtime.settings, catalog=runtime.catalog, store=runtime.store, pipeline=runtime.pipeline
        )
        with exit_on():
            report = doc.repair() if repair else doc.check()
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for line in report.repairs:
            console.print(f"[green]repaired[/green] {line}")
        for p in report.problems:
            console.print(f"[red]{p.kind}[/red] {p.doc_id or ''} {p.detail}")
        rows = sum(report.rows.values())
        verdict = "clean" if report.clean else f"{len(report.problems)} problems"
        console.print(f"{report.documents} documents, {rows} rows: {verdict}")
    if not report.clean:
        raise typer.Exit(1)


@app.command(name="export")
def export_cmd(dest: Annotated[Path, typer.Argument(help="New or empty folder to write.")]) -> None:
    """Write the whole deployment (catalog, Milvus rows with vectors, media, uploads) to a folder."""
    from vlsearch.ops.backup import export_deployment

    settings = get_settings()
    with open_runtime(settings) as runtime, exit_on():
        manifest = export_deployment(
            settings=settings, catalog=runtime.catalog, store=runtime.store, dest=dest
        )
    console.print(
        f"exported {sum(manifest.rows.values())} rows, {manifest.catalog_rows.get('documents', 0)} "
        f"documents, {manifest.files} files to {dest}"
    )


@app.command(name="import")
def import_cmd(src: Annotated[Path, typer.Argument(help="A folder written by `vlsearch export`.")]) -> None:
    """Load an export into this (empty) deployment: another data dir, or a Milvus server URI."""
    from vlsearch.ops.backup import Manifest, import_deployment
    from vlsearch.runtime import Runtime

    settings = get_settings()
    with exit_on():
        manifest = Manifest.read(src)
        # before connecting: connecting an empty store creates its collections for this embedder
        embedder = Runtime.from_settings(settings).embedder
        manifest.check_target(embedder_id=embedder.model_id, dim=embedder.dim)
    with open_runtime(settings) as runtime, exit_on():
        report = import_deployment(settings=settings, catalog=runtime.catalog, store=runtime.store, src=src)
    console.print(
        f"imported {sum(report.rows.values())} rows, {report.catalog_rows.get('documents', 0)} documents, "
        f"{report.files} files into {settings.resolved_milvus_uri}"
    )
