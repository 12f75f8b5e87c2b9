"""The layer contract in pyproject.toml ([tool.importlinter]) holds: CI runs it through this test.

A failure names the import that climbs a layer; move the code it needs down, or the importer up
(docs/architecture.md says where each kind of code belongs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = (
    "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_layers_are_kept() -> None:
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_catches_an_import_that_climbs(tmp_path: Path) -> None:
    """The control: the same contract on a copy where a model module imports the reranker stage."""
    shutil.copytree(ROOT / "vlsearch", tmp_path / "vlsearch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "vlsearch" / "models" / "leak.py").write_text(
        "from vlsearch.rerank.stage import RerankStage\n"
    )
    run = _lint(tmp_path)
    assert run.returncode != 0
    assert "vlsearch.models.leak -> vlsearch.rerank.stage" in run.stdout
