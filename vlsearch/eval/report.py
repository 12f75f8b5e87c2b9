"""`vlsearch eval --report DIR`: a Markdown report with PNG bar charts of a media evaluation."""

from __future__ import annotations

from pathlib import Path

from vlsearch.eval.grounding import markdown as grounding_markdown
from vlsearch.eval.media import MediaEvalReport, MediaEvalRow

CHART_METRICS = ("ndcg@10", "mrr@10", "recall@10")


def markdown_table(report: MediaEvalReport) -> str:
    head = "| queries | rerank | n | " + " | ".join(CHART_METRICS) + " | ms/query |"
    lines = [head, "|" + "---|" * (len(CHART_METRICS) + 4)]
    for r in report.rows:
        lines.append(
            f"| {r.modality} | {'yes' if r.reranked else 'no'} | {r.queries} | "
            + " | ".join(f"{r.metrics[m]:.3f}" for m in CHART_METRICS)
            + f" | {r.ms_per_query:.0f} |"
        )
    return "\n".join(lines)


def _chart(rows: list[MediaEvalRow], metric: str, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    modalities = list(dict.fromkeys(r.modality for r in rows))
    passes = sorted({r.reranked for r in rows})
    width = 0.8 / len(passes)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for k, reranked in enumerate(passes):
        values = [
            next((r.metrics[metric] for r in rows if r.modality == m and r.reranked == reranked), 0.0)
            for m in modalities
        ]
        xs = [i + (k - (len(passes) - 1) / 2) * width for i in range(len(modalities))]
        bars = ax.bar(xs, values, width, label="reranked" if reranked else "retrieval")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(modalities)), modalities)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by query modality")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def write_report(report: MediaEvalReport, out_dir: Path) -> Path:
    """Write report.md, report.json and one PNG per chart metric into `out_dir`; returns report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = [_chart(list(report.rows), m, out_dir / f"{m.replace('@', '_at_')}.png") for m in CHART_METRICS]
    (out_dir / "report.json").write_text(report.to_json() + "\n", encoding="utf-8")
    lines = [
        f"# Evaluation: {report.dataset}",
        "",
        f"{report.documents} documents, {report.queries} queries; embedder `{report.embedder}`; "
        f"reranker `{report.reranker or 'none'}`; ingest {report.ingest_s:.1f} s.",
        "",
        markdown_table(report),
        "",
    ]
    if report.grounding:
        lines += [
            "## Grounding",
            "",
            "Whether a correct hit (the first hit on the answer's page, slide or moment) boxes the "
            "answer line among its top highlights (IoU >= 0.5 with the box written with the set).",
            "",
            grounding_markdown(report.grounding),
            "",
        ]
    if report.rerank_note:
        lines += [f"No reranked rows: {report.rerank_note}.", ""]
    if report.failed_files:
        lines += ["Files that failed to ingest:", ""] + [f"- {f}" for f in report.failed_files] + [""]
    lines += [f"![{c.stem}]({c.name})" for c in charts]
    md = out_dir / "report.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md
