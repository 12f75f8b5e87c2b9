"""Secrets in Settings are SecretStr: never in a repr, a dump or the README table; the raw value
reaches only the client that sends it."""

from __future__ import annotations

from pathlib import Path

from vlsearch.config import get_settings, settings_markdown_table
from vlsearch.models.gate import unwrap
from vlsearch.runtime import Runtime


def test_secrets_do_not_show(tmp_path: Path) -> None:
    s = get_settings(
        data_dir=tmp_path,
        milvus_token="root:hunter2",
        reranker_api_key="sk-live-123",
        catalog_url="postgresql+psycopg://vlsearch:pg-pass-9@db:5432/vlsearch",
    )
    shown = f"{s!r} {s} {s.model_dump()} {s.model_dump_json()}"
    assert "hunter2" not in shown and "sk-live-123" not in shown and "pg-pass-9" not in shown
    assert s.milvus_token.get_secret_value() == "root:hunter2"
    assert s.resolved_catalog_url == "postgresql+psycopg://vlsearch:pg-pass-9@db:5432/vlsearch"
    table = settings_markdown_table()
    assert "SecretStr" not in table and "*****" not in table
    assert "| `VLSEARCH_MILVUS_TOKEN` | `—` |" in table


def test_the_remote_reranker_sends_the_raw_key(tmp_path: Path) -> None:
    s = get_settings(
        data_dir=tmp_path, reranker_url="http://127.0.0.1:9/v1/rerank", reranker_api_key="sk-live-123"
    )
    remote = unwrap(Runtime.from_settings(s).reranker)
    assert remote._http().headers["authorization"] == "Bearer sk-live-123"


def test_an_eval_target_does_not_show_its_secrets() -> None:
    from vlsearch.eval.runner import EvalTarget

    target = EvalTarget(
        path="server",
        milvus_uri="http://127.0.0.1:19530",
        milvus_token="root:hunter2",
        catalog_url="postgresql+psycopg://vlsearch:pg-pass-9@db:5432/vlsearch",
    )
    assert "hunter2" not in repr(target) and "pg-pass-9" not in repr(target)
