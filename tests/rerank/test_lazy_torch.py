"""A CPU-profile or remote-reranker node imports vlsearch.rerank (and the Qwen3-VL plumbing in
vlsearch.models.qwen3vl) without importing torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CODE = textwrap.dedent(
    """
    import sys
    import vlsearch.rerank, vlsearch.rerank.cache, vlsearch.rerank.remote, vlsearch.rerank.stage
    import vlsearch.models.qwen3vl.inputs, vlsearch.models.qwen3vl.prompt, vlsearch.models.qwen3vl.truncation
    import vlsearch.models.qwen3vl_embedder
    import vlsearch.models.device
    from vlsearch.config import get_settings
    from vlsearch.rerank import Qwen3VLReranker, RerankStage, ScoreCache
    from vlsearch.models.qwen3vl.inputs import parse_side
    from vlsearch.rerank.remote import RemoteReranker

    # what the Runtime builds for rerank_on_cpu (weights not loaded) and for a remote reranker
    local = Qwen3VLReranker.from_settings(get_settings(), model="/models/none")
    local.info()
    remote = RemoteReranker(url="http://127.0.0.1:9/v1/rerank")
    for r in (local, remote):
        RerankStage(reranker=r, media_root=".", cache=ScoreCache())
    ScoreCache().content_hash(parse_side({"text": "x"}))
    roots = ("torch", "torchvision", "qwen_vl_utils", "transformers")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in roots)
    print("HEAVY", heavy)
    # control: the device helpers do import torch once asked for a dtype
    vlsearch.models.device.parse_dtype("bf16")
    print("CONTROL", "torch" in sys.modules)
    """
)


def test_rerank_imports_and_construction_do_not_import_torch() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout, out.stdout
    assert "CONTROL True" in out.stdout
