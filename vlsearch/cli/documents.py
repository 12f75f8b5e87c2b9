"""Ingest, search and rerank from the command line (in process, or through a running API)."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vlsearch.cli.app import app, console, err, exit_on, open_runtime, parse_groups
from vlsearch.config import get_settings
from vlsearch.errors import VlsearchError


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    groups: Annotated[str, typer.Option(help="Comma-separated access groups.")] = "public",
    api: Annotated[
        str | None, typer.Option(help="Send the files to a running server, e.g. http://127.0.0.1:8000.")
    ] = None,
    api_key: Annotated[str, typer.Option(envvar="VLSEARCH_API_KEY", help="Key for --api.")] = "",
) -> None:
    """Ingest files (documents, images, videos) into the index, or through a running server (--api)."""
    from vlsearch.catalog import FileStatus
    from vlsearch.ingest.paths import expand
    from vlsearch.ingest.pipeline import IngestReport

    files = list(expand(paths))
    started = time.perf_counter()
    with (
        contextlib.nullcontext() if api else open_runtime(get_settings()) as runtime,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as bar,
    ):
        task = bar.add_task("ingesting", total=len(files))

        def tick(result) -> None:  # type: ignore[no-untyped-def]
            bar.update(task, advance=1, description=f"{result.status:9} {result.name[:40]}")

        if api:
            from vlsearch.remote_client import ApiClient

            with exit_on(VlsearchError, httpx.HTTPError), ApiClient(url=api, api_key=api_key) as client:
                results = client.ingest(files, groups=parse_groups(groups), progress=tick)
            report = IngestReport(tuple(results), time.perf_counter() - started)
        else:
            assert runtime is not None
            report = runtime.pipeline.ingest_paths(files, groups=parse_groups(groups), progress=tick)
    table = Table(title=f"ingest summary ({report.seconds:.1f} s)")
    table.add_column("file")
    table.add_column("status")
    table.add_column("items", justify="right")
    table.add_column("reason")
    for r in report.results:
        colours = {FileStatus.INGESTED: "green", FileStatus.UNCHANGED: "dim", FileStatus.FAILED: "red"}
        colour = colours[FileStatus(r.status)]
        table.add_row(r.name, f"[{colour}]{r.status}[/{colour}]", str(r.items), r.error)
    console.print(table)
    console.print(
        f"ingested {report.count('ingested')} · unchanged {report.count('unchanged')} · "
        f"failed {report.count('failed')} · {report.items} rows"
    )
    if (
        report.count(FileStatus.FAILED)
        and not report.count(FileStatus.INGESTED)
        and not report.count(FileStatus.UNCHANGED)
    ):
        raise typer.Exit(1)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Query text (optional with --image/--video).")] = "",
    image: Annotated[list[Path] | None, typer.Option(help="Query image (photo, screenshot).")] = None,
    video: Annotated[Path | None, typer.Option(help="Query video clip.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=200)] = 10,
    rerank: Annotated[bool, typer.Option(help="Rerank with the Qwen3-VL reranker.")] = True,
    instruction: Annotated[str | None, typer.Option(help="Reranker instruction.")] = None,
    doc_type: Annotated[list[str] | None, typer.Option("--type", help="Restrict to document types.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    api: Annotated[str | None, typer.Option(help="Ask a running server, e.g. http://127.0.0.1:8000.")] = None,
    api_key: Annotated[str, typer.Option(envvar="VLSEARCH_API_KEY", help="Key for --api.")] = "",
) -> None:
    """Search with text, an image and/or a video (locally, or through a running server with --api)."""
    from vlsearch.types import Query, SearchFilter

    if not text and not image and video is None:
        err.print("[red]error:[/red] give query text, --image or --video")
        raise typer.Exit(2)
    if api:
        _search_remote(api, api_key, text, image, video, top_k, rerank, instruction, doc_type, as_json)
        return
    # One search per process: asking Lite once costs less than building the in-process index
    # first (70 s at 100k rows; a served store builds it once at start).
    settings = get_settings().model_copy(update={"milvus_lite_memory_index": False})
    query = Query(
        text=text,
        image_paths=tuple(str(p) for p in image or ()),
        video_path=str(video) if video else None,
        filters=SearchFilter(doc_types=tuple(doc_type or ())),
        top_k=top_k,
        rerank=rerank,
        instruction=instruction,
    )
    with open_runtime(settings) as runtime, exit_on():
        result = runtime.search.search(query)
    if as_json:
        payload = {
            "hits": [h.to_dict() for h in result.hits],
            "reranked": result.reranked,
            "degraded": result.degraded,
            "timings_ms": dict(result.timings_ms),
        }
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if result.degraded:
        err.print(f"[yellow]note:[/yellow] {result.degraded}")
    table = Table(title=f"{len(result.hits)} results ({result.timings_ms.get('total', 0):.0f} ms)")
    for col in ("#", "score", "document", "where", "text"):
        table.add_column(col)
    for hit in result.hits:
        evidence = hit.evidence
        # the line that answers, when the hit has positions; else the snippet
        shown = (
            (evidence.highlights[0].text if evidence.highlights else evidence.snippet)
            if evidence is not None
            else hit.item.text
        )
        table.add_row(
            str(hit.rank),
            f"{hit.score:.3f}",
            hit.item.name,
            hit.item.locator.label() or hit.item.modality.value,
            shown[:160].replace("\n", " "),
        )
    console.print(table)


def _search_remote(
    api: str,
    api_key: str,
    text: str,
    image: list[Path] | None,
    video: Path | None,
    top_k: int,
    rerank: bool,
    instruction: str | None,
    doc_type: list[str] | None,
    as_json: bool,
) -> None:
    from vlsearch.remote_client import ApiClient

    body: dict[str, object] = {"text": text, "top_k": top_k, "rerank": rerank, "instruction": instruction}
    if doc_type:
        body["filters"] = (
            {"doc_types": list(doc_type)}
            if not (image or video)
            else json.dumps({"doc_types": list(doc_type)})
        )
    with exit_on(VlsearchError, httpx.HTTPError), ApiClient(url=api, api_key=api_key) as client:
        payload = client.search(body, image=image[0] if image else None, video=video)
    if as_json:
        console.print_json(json.dumps(payload, ensure_ascii=False))
        return
    if payload.get("degraded"):
        err.print(f"[yellow]note:[/yellow] {payload['degraded']}")
    table = Table(title=f"{len(payload['results'])} results ({payload['timings_ms'].get('total', 0):.0f} ms)")
    for col in ("#", "score", "document", "where", "text"):
        table.add_column(col)
    for hit in payload["results"]:
        shown = hit["highlights"][0]["text"] if hit.get("highlights") else hit["snippet"]
        table.add_row(
            str(hit["rank"]),
            f"{hit['score']:.3f}",
            hit["document"]["name"],
            hit["locator_label"] or hit["modality"],
            shown[:160].replace("\n", " "),
        )
    console.print(table)


@app.command()
def rerank(
    inputs: Annotated[
        Path, typer.Argument(help="JSON file: {instruction, query, documents, fps, max_frames}.")
    ],
    model: Annotated[
        str | None, typer.Option(help="Qwen3-VL-Reranker name or local path (default: VLSEARCH_RERANKER).")
    ] = None,
) -> None:
    """Score documents against a query with Qwen3-VL-Reranker (the seed article's input format).

    Videos longer than VLSEARCH_MAX_QUERY_VIDEO_SECONDS are refused, as search uploads are.
    """
    from vlsearch.rerank import Qwen3VLReranker

    payload = json.loads(inputs.read_text(encoding="utf-8"))
    with exit_on():
        scores = Qwen3VLReranker.from_settings(get_settings(), model=model).process(payload)
    console.print_json(json.dumps({"scores": scores}))
