"""Run the service: the API server, the demo corpus, the model list, ingest workers and their queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vlsearch.cli.app import app, console, err, exit_on, open_runtime, parse_groups
from vlsearch.config import get_settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Serve the HTTP API and the web UI."""
    from vlsearch.api.app import serve as run_server

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    run_server(get_settings(**overrides))


@app.command()
def demo(
    if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing when data exists.")] = False,
    dest: Annotated[Path | None, typer.Option(help="Where to write the demo files.")] = None,
) -> None:
    """Generate the demo corpus (manuals, SOPs, sheets, a photo, a video) and ingest it; write the
    seed article's query photos and videos to <data dir>/demo-queries/."""
    from vlsearch.catalog import FileStatus
    from vlsearch.demo.corpus import build_demo_files
    from vlsearch.demo.queries import SCENARIOS, write_demo_queries

    settings = get_settings()
    marker = settings.data_dir / ".demo-ingested"
    # the article's query media (a photo and a video per scenario), not part of the index
    queries_dir = settings.data_dir / "demo-queries"
    wanted = [queries_dir / name for sc in SCENARIOS for name in (sc.photo, sc.video)]
    if not all(p.is_file() for p in wanted):
        write_demo_queries(queries_dir)
    if if_missing and (marker.exists() or (settings.data_dir / "milvus.db").exists()):
        err.print(f"data already present in {settings.data_dir}; skipping the demo corpus")
        return
    target = dest or settings.data_dir / "demo-corpus"
    files = build_demo_files(target)
    settings = get_settings(allowed_roots=[*settings.resolved_allowed_roots, target.resolve()])
    with open_runtime(settings) as runtime:
        report = runtime.pipeline.ingest_paths(files, groups=("public",))
    for r in report.results:
        if r.status is FileStatus.FAILED:
            err.print(f"[yellow]demo file failed:[/yellow] {r.name}: {r.error}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{len(files)} files\n")
    console.print(
        f"demo corpus: {report.count('ingested')} files, {report.items} rows in {report.seconds:.1f} s"
    )
    for sc in SCENARIOS:
        text = f"'{sc.text}' " if sc.text else ""
        for flag, name in (("--image", sc.photo), ("--video", sc.video)):
            # soft_wrap: a command to copy must not be broken across lines
            console.print(
                f"article {sc.section}: vlsearch search {text}{flag} {queries_dir / name}",
                soft_wrap=True,
                markup=False,
            )


@app.command()
def models() -> None:
    """Show the active profile and models."""
    from vlsearch.runtime import Runtime

    runtime = Runtime.from_settings(get_settings())
    console.print(f"profile: {runtime.profile.profile} ({runtime.profile.reason})")
    for info in runtime.models.list():
        console.print(f"{info.name}: {info.model_id} [{info.backend}] {info.state.value}")


@app.command()
def worker(
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Worker name (default host:pid:random).")
    ] = None,
    max_tasks: Annotated[int | None, typer.Option(min=1, help="Exit after this many tasks.")] = None,
    exit_when_idle: Annotated[
        bool, typer.Option("--exit-when-idle", help="Exit once no task is queued or running.")
    ] = False,
) -> None:
    """Claim ingest tasks from the catalog's queue and ingest them (needs a Milvus server URI)."""
    from vlsearch.worker import run_worker

    with exit_on():
        stats = run_worker(
            get_settings(), worker_id=worker_id, max_tasks=max_tasks, exit_when_idle=exit_when_idle
        )
    err.print(f"{stats.tasks} tasks ({stats.failed} failed, {stats.lost} lost) in {stats.seconds:.1f} s")


@app.command()
def enqueue(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to queue for `vlsearch worker`.")],
    groups: Annotated[str, typer.Option(help="Comma-separated access groups.")] = "public",
) -> None:
    """Queue files for the ingest workers and print the job id (follow it with GET /v1/jobs/{id})."""
    from vlsearch.worker import enqueue_paths

    job = enqueue_paths(get_settings(), paths, groups=parse_groups(groups))
    console.print_json(json.dumps({"job_id": job.id, "total": job.total}))
