"""A CPU-profile server (the default ensemble embedder) serves searches and ingests without torch:
run in a fresh interpreter, since this test session imports torch elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from vlsearch.demo.writers import Doc, Heading, Para, write_docx

_SERVER = textwrap.dedent(
    """
    import json, sys, threading, time
    from pathlib import Path
    import httpx, uvicorn
    sys.path.insert(0, sys.argv[3])
    from tests.api.server import free_port, wait_for_job
    from vlsearch.api.app import create_app
    from vlsearch.config import get_settings

    settings = get_settings(data_dir=Path(sys.argv[1]), profile="cpu", preload_embedder=True)
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300)
    deadline = time.monotonic() + 300
    while True:
        try:
            if client.get("/v1/models/embedder").json()["state"] == "ready":
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the embedder never became ready"
        time.sleep(0.2)

    def rss_mb():
        return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024

    out = {"backend": client.get("/v1/models/embedder").json()["backend"]}
    client.post("/v1/search", json={"text": "how to replace the pump", "top_k": 5}).raise_for_status()
    out["ready_rss_mb"] = rss_mb()
    doc = Path(sys.argv[2])
    files = [("files", (doc.name, doc.read_bytes()))]
    resp = client.post("/v1/documents", files=files, data={"groups": "public"})
    out["job"] = wait_for_job(client, resp.json()["job_id"])["status"]
    hits = []
    for _ in range(40):  # the searcher trusts "this collection is empty" for a few seconds
        hits = client.post("/v1/search", json={"text": "chiller alarm A-41", "top_k": 5}).json()["results"]
        if hits:
            break
        time.sleep(0.25)
    out["hit"] = hits[0]["document"]["name"] if hits else ""
    out["ingested_rss_mb"] = rss_mb()
    heavy = ("torch", "torchvision", "transformers", "sentence_transformers", "onnx", "rapidocr", "cv2")
    out["imported"] = sorted(m for m in heavy if m in sys.modules)
    server.should_exit = True
    print(json.dumps(out))
    """
)


def test_a_cpu_server_searches_and_ingests_without_torch(tmp_path: Path) -> None:
    doc = write_docx(
        tmp_path / "chiller.docx",
        Doc(
            title="Chiller guide",
            blocks=(Heading("Alarms"), Para("Chiller CH-9 alarm A-41 means low refrigerant.")),
        ),
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    env.pop("VLSEARCH_PRELOAD_EMBEDDER", None)
    run = subprocess.run(
        [sys.executable, "-c", _SERVER, str(tmp_path / "data"), str(doc), root],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["job"] == "done" and out["hit"] == "chiller.docx"
    assert "onnxruntime" in out["backend"]
    # none of these may load in a CPU server (OCR runs in the extraction workers)
    assert out["imported"] == [], out["imported"]
    # about 490 MB ready and 540 MB after an ingest on the build machine; loose bounds
    assert out["ready_rss_mb"] < 800, out
    assert out["ingested_rss_mb"] < 900, out
