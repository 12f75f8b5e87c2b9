"""Search latency while a 1,000-file ingest runs through the API.

    python benchmarks/load_during_ingest.py [--files 1000] [--searchers 2] [--batch 50]

Starts the API (uvicorn in this process, CPU profile, fresh Milvus Lite data dir), writes N tiny
generated Markdown notes, uploads them through POST /v1/documents in jobs of --batch files while
--searchers threads POST /v1/search without pause. Every hit's document is looked up in the
catalog right after its search and must be `ready` (a half-ingested document shown to a user is
counted in hits_not_ready). Same driver as tests/load/test_load.py.

Writes benchmarks/results/load_during_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.api.server import LiveServer  # noqa: E402
from tests.load.driver import search_during_ingest, write_notes  # noqa: E402
from vlsearch.config import get_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlsearch-load-") as tmp:
        folder = Path(tmp)
        paths = write_notes(folder / "notes", args.files)
        settings = get_settings(data_dir=folder / "data", profile="cpu")
        server = LiveServer.start(settings)
        try:
            started = time.perf_counter()
            report = search_during_ingest(server.url, paths, searchers=args.searchers, batch=args.batch)
            wall = time.perf_counter() - started
        finally:
            server.stop()
    result = {
        "benchmark": "load_during_ingest",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "embedder": settings.embedder,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "searchers": args.searchers,
        "batch": args.batch,
        "wall_seconds": round(wall, 2),
        **report.summary(),
        "error_samples": report.errors[:5],
        "not_ready_samples": report.not_ready_hits[:5],
    }
    out = ROOT / "benchmarks" / "results" / "load_during_ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
