"""Quality evaluation: BEIR-layout sets, and writers of the media and grounding sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vlsearch.cli.app import app, console
from vlsearch.config import get_settings


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
