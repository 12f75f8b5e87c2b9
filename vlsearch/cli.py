"""`vlsearch` command line: serve | ingest | search | eval | rerank | demo | models | worker | enqueue |
doctor | export | import."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vlsearch.config import Settings, get_settings
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
def _runtime(settings: Settings) -> Iterator:  # type: ignore[type-arg]
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


def _groups(value: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in value.split(",") if g.strip())


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
    from vlsearch.ingest.paths import expand
    from vlsearch.ingest.pipeline import IngestReport

    files = list(expand(paths))
    started = time.perf_counter()
    with (
        contextlib.nullcontext() if api else _runtime(get_settings()) as runtime,
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

            try:
                with ApiClient(url=api, api_key=api_key) as client:
                    results = client.ingest(files, groups=_groups(groups), progress=tick)
            except (VlsearchError, httpx.HTTPError) as exc:
                err.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            report = IngestReport(tuple(results), time.perf_counter() - started)
        else:
            assert runtime is not None
            report = runtime.pipeline.ingest_paths(files, groups=_groups(groups), progress=tick)
    table = Table(title=f"ingest summary ({report.seconds:.1f} s)")
    table.add_column("file")
    table.add_column("status")
    table.add_column("items", justify="right")
    table.add_column("reason")
    for r in report.results:
        colour = {"ingested": "green", "unchanged": "dim", "failed": "red"}.get(r.status, "")
        table.add_row(r.name, f"[{colour}]{r.status}[/{colour}]", str(r.items), r.error)
    console.print(table)
    console.print(
        f"ingested {report.count('ingested')} · unchanged {report.count('unchanged')} · "
        f"failed {report.count('failed')} · {report.items} rows"
    )
    if report.count("failed") and not report.count("ingested") and not report.count("unchanged"):
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
    with _runtime(settings) as runtime:
        try:
            result = runtime.search.search(query)
        except VlsearchError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
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
    try:
        with ApiClient(url=api, api_key=api_key) as client:
            payload = client.search(body, image=image[0] if image else None, video=video)
    except (VlsearchError, httpx.HTTPError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
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
    with _runtime(settings) as runtime:
        report = runtime.pipeline.ingest_paths(files, groups=("public",))
    for r in report.results:
        if r.status == "failed":
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


@app.command(name="eval")
def evaluate(
    corpus: Annotated[Path, typer.Option(help="BEIR corpus.jsonl")],
    queries: Annotated[Path, typer.Option(help="BEIR queries.jsonl")],
    qrels: Annotated[Path, typer.Option(help="BEIR qrels .tsv (with header)")],
    top_k: Annotated[int, typer.Option("--top-k")] = 10,
    mode: Annotated[
        list[str] | None, typer.Option(help="dense | bm25 | hybrid | rrf (repeatable; default all).")
    ] = None,
    embedder: Annotated[
        list[str] | None, typer.Option(help="Embedders to compare (repeatable; default the configured one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    report_dir: Annotated[
        Path | None, typer.Option("--report", help="Write report.md, report.json and PNG charts here.")
    ] = None,
    rerank: Annotated[
        bool, typer.Option(help="Media sets: also score reranked results when a reranker is available.")
    ] = True,
    milvus_uri: Annotated[
        str,
        typer.Option(
            "--milvus-uri",
            help="Evaluate through this Milvus server (http://host:19530) instead of a fresh embedded "
            "store: the set goes into collections under a fresh prefix, dropped afterwards.",
        ),
    ] = "",
    milvus_token: Annotated[str, typer.Option("--milvus-token", help="Token for --milvus-uri.")] = "",
    catalog_url: Annotated[
        str,
        typer.Option(
            "--catalog-url",
            help="Catalog database for the server path (default: a temp SQLite file); the set's "
            "documents are removed afterwards.",
        ),
    ] = "",
    compare_embedded: Annotated[
        bool,
        typer.Option(
            "--compare-embedded",
            help="With --milvus-uri: also run the embedded path in the same invocation (same query "
            "vectors, same passages) and report both.",
        ),
    ] = False,
) -> None:
    """Evaluate retrieval quality on a BEIR-layout set in a fresh temporary store.

    A set whose corpus rows name files (`path`) or whose queries carry an `image` or `video` is
    ingested file by file and searched through the full service, scored per query modality.
    nDCG@10 uses trec_eval's linear gain."""
    from vlsearch.eval.media import evaluate_media_set, load_media_set
    from vlsearch.eval.runner import DEFAULT_MODES, EMBEDDED, EvalTarget, run_eval

    if (catalog_url or compare_embedded or milvus_token) and not milvus_uri:
        raise typer.BadParameter("--catalog-url, --milvus-token and --compare-embedded go with --milvus-uri")

    media_set = load_media_set(corpus, queries, qrels)
    if media_set.has_media and milvus_uri:
        raise typer.BadParameter("--milvus-uri evaluates text sets; media sets run on an embedded store")
    if media_set.has_media:
        media_report = evaluate_media_set(get_settings(), media_set, rerank=rerank)
        if report_dir is not None:
            from vlsearch.eval.report import write_report

            console.print(f"report: {write_report(media_report, report_dir)}")
        if as_json:
            console.print_json(media_report.to_json())
        else:
            console.print(media_report.to_table())
        return
    if report_dir is not None:
        raise typer.BadParameter("--report needs a set with image/video queries or file corpus rows")
    report = run_eval(
        get_settings(),
        corpus,
        queries,
        qrels,
        top_k=top_k,
        modes=tuple(mode or DEFAULT_MODES),
        embedders=tuple(embedder) if embedder else None,
        targets=(
            (EMBEDDED,) * compare_embedded
            + (
                EvalTarget(
                    path="server", milvus_uri=milvus_uri, milvus_token=milvus_token, catalog_url=catalog_url
                ),
            )
            if milvus_uri
            else (EMBEDDED,)
        ),
    )
    if as_json:
        console.print_json(report.to_json())
    else:
        console.print(report.to_table())


@app.command(name="eval-media-set")
def eval_media_set(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the set into (created).")],
) -> None:
    """Write the built-in multimodal evaluation set (skimage photos, demo documents, rack photo and
    racking video; text, image and video queries with judgments)."""
    from vlsearch.eval.media_set import write_media_set

    folder = write_media_set(out_dir)
    console.print(
        f"wrote {folder}: vlsearch eval --corpus {folder}/corpus.jsonl --queries {folder}/queries.jsonl "
        f"--qrels {folder}/qrels.tsv --report {folder}/report"
    )


@app.command(name="eval-grounding-set")
def eval_grounding_set(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the set into (created).")],
) -> None:
    """Write the grounding evaluation set (born-digital and scanned PDFs, slide decks of pictures,
    training videos; each query's answer line with the box it was written at)."""
    from vlsearch.eval.grounding_set import write_grounding_set

    folder = write_grounding_set(out_dir)
    console.print(
        f"wrote {folder}: vlsearch eval --corpus {folder}/corpus.jsonl --queries {folder}/queries.jsonl "
        f"--qrels {folder}/qrels.tsv --report {folder}/report"
    )


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
    try:
        scores = Qwen3VLReranker.from_settings(get_settings(), model=model).process(payload)
    except VlsearchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print_json(json.dumps({"scores": scores}))


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

    try:
        stats = run_worker(
            get_settings(), worker_id=worker_id, max_tasks=max_tasks, exit_when_idle=exit_when_idle
        )
    except VlsearchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    err.print(f"{stats.tasks} tasks ({stats.failed} failed, {stats.lost} lost) in {stats.seconds:.1f} s")


@app.command()
def enqueue(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to queue for `vlsearch worker`.")],
    groups: Annotated[str, typer.Option(help="Comma-separated access groups.")] = "public",
) -> None:
    """Queue files for the ingest workers and print the job id (follow it with GET /v1/jobs/{id})."""
    from vlsearch.worker import enqueue_paths

    job = enqueue_paths(get_settings(), paths, groups=_groups(groups))
    console.print_json(json.dumps({"job_id": job.id, "total": job.total}))


@app.command()
def doctor(
    repair: Annotated[
        bool, typer.Option("--repair", help="Fix what is found (stop the server first).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check that the catalog, the Milvus rows and the media files agree; exit 1 if not."""
    from vlsearch.ops.doctor import Doctor

    with _runtime(get_settings()) as runtime:
        doc = Doctor(
            settings=runtime.settings, catalog=runtime.catalog, store=runtime.store, pipeline=runtime.pipeline
        )
        try:
            report = doc.repair() if repair else doc.check()
        except VlsearchError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
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
    with _runtime(settings) as runtime:
        try:
            manifest = export_deployment(
                settings=settings, catalog=runtime.catalog, store=runtime.store, dest=dest
            )
        except VlsearchError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
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
    try:
        manifest = Manifest.read(src)
        # before connecting: connecting an empty store creates its collections for this embedder
        embedder = Runtime.from_settings(settings).embedder
        manifest.check_target(embedder_id=embedder.model_id, dim=embedder.dim)
    except VlsearchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with _runtime(settings) as runtime:
        try:
            report = import_deployment(
                settings=settings, catalog=runtime.catalog, store=runtime.store, src=src
            )
        except VlsearchError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    console.print(
        f"imported {sum(report.rows.values())} rows, {report.catalog_rows.get('documents', 0)} documents, "
        f"{report.files} files into {settings.resolved_milvus_uri}"
    )


def main() -> None:
    app()
