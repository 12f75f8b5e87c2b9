"""The `vlsearch` command as users run it: a real subprocess per command on one data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vlsearch.demo.writers import Doc, Heading, Para, write_docx, write_pdf


def _run(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vlsearch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("cli")
    return {
        **os.environ,
        "VLSEARCH_DATA_DIR": str(tmp / "data"),
        "VLSEARCH_ALLOWED_ROOTS": str(tmp),
        "VLSEARCH_PROFILE": "cpu",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def corpus_dir(env: dict[str, str]) -> Path:
    root = Path(env["VLSEARCH_ALLOWED_ROOTS"]) / "docs"
    root.mkdir()
    write_pdf(
        root / "fan.pdf",
        Doc(
            "Fan module",
            (
                Heading("Fan module"),
                Para("Replace fan module FM-3 when error E-44 shows."),
            ),
        ),
    )
    write_docx(
        root / "badge.docx",
        Doc(
            "Badges",
            (
                Heading("Badges"),
                Para("Visitor badges are collected at reception."),
            ),
        ),
    )
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    return root


def test_ingest_then_search(env: dict[str, str], corpus_dir: Path) -> None:
    ingest = _run(["ingest", str(corpus_dir), "--groups", "ops,public"], env)
    assert ingest.returncode == 0, ingest.stderr
    assert "ingested 2" in ingest.stdout and "failed 1" in ingest.stdout
    assert "broken.pdf" in ingest.stdout

    # new groups → the files are re-indexed with them; the same groups again → nothing to do
    regrouped = _run(["ingest", str(corpus_dir), "--groups", "ops"], env)
    assert "ingested 2" in regrouped.stdout, regrouped.stdout
    same = _run(["ingest", str(corpus_dir), "--groups", "ops"], env)
    assert "unchanged 2" in same.stdout, same.stdout

    found = _run(["search", "fan module error E-44", "--json", "--top-k", "3"], env)
    assert found.returncode == 0, found.stderr
    payload = json.loads(found.stdout)
    assert payload["hits"][0]["name"] == "fan.pdf"
    assert payload["hits"][0]["locator"]["page"] == 1
    assert payload["reranked"] is False and payload["degraded"]


def test_search_without_query_is_a_usage_error(env: dict[str, str]) -> None:
    result = _run(["search"], env)
    assert result.returncode == 2
    assert "give query text" in result.stderr


def test_ingest_outside_allowed_roots_fails_with_reason(env: dict[str, str], tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not allowed")
    result = _run(
        ["ingest", str(outside)],
        env | {"VLSEARCH_ALLOWED_ROOTS": str(Path(env["VLSEARCH_DATA_DIR"]).parent / "docs")},
    )
    assert result.returncode == 1
    assert "allowed roots" in result.stdout


def test_a_file_name_that_is_not_utf8_fails_alone_with_its_reason(env: dict[str, str]) -> None:
    root = Path(env["VLSEARCH_ALLOWED_ROOTS"]) / "mixed-names"
    root.mkdir()
    for i in range(3):
        (root / f"pump-{i}.md").write_text(f"# Pump P-{i}\n\nGrease the bearing every {i + 2} weeks.\n")
    # a name in Latin-1 (\xff), from another system: not UTF-8, so not storable as a source
    with open(os.path.join(os.fsencode(root), b"bad\xffname.md"), "wb") as fh:
        fh.write(b"# Bad\n\nA file with a foreign name.\n")
    result = _run(["ingest", str(root), "--groups", "ops"], env | {"COLUMNS": "400"})  # no wrapping
    assert result.returncode == 0, result.stderr
    assert "ingested 3" in result.stdout and "failed 1" in result.stdout, result.stdout
    assert "bad\\xffname.md" in result.stdout and "not valid UTF-8" in result.stdout


def test_eval_on_a_small_beir_set(env: dict[str, str], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    queries = tmp_path / "queries.jsonl"
    qrels = tmp_path / "qrels.tsv"
    docs = {
        "d1": "The cooling fan module FM-3 is hot-swappable.",
        "d2": "Visitor badges must be returned at reception.",
        "d3": "Battery string B7 is replaced every three years.",
    }
    corpus.write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in docs.items()))
    queries.write_text(
        "\n".join(
            json.dumps(q)
            for q in (
                {"_id": "q1", "text": "which fan module can be swapped while running"},
                {"_id": "q2", "text": "where do visitors return their badge"},
                {"_id": "q3", "text": "how often is the battery replaced"},
            )
        )
    )
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    result = _run(
        [
            "eval",
            "--corpus",
            str(corpus),
            "--queries",
            str(queries),
            "--qrels",
            str(qrels),
            "--json",
            "--mode",
            "dense",
            "--mode",
            "hybrid",
        ],
        env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    text = json.dumps(report)
    assert "mrr@10" in text
    scores = [r["metrics"]["mrr@10"] for r in report["results"]]
    assert len(scores) == 2 and all(s == pytest.approx(1.0) for s in scores)
