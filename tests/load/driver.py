"""Searches against a live API while a large upload ingest runs through it (shared by the load test
and benchmarks/load_during_ingest.py).

Every file is a tiny generated Markdown note carrying a unique token, so a search can find it the
moment it is indexed. Each search's hits are checked against the catalog right away: a hit whose
document is not ``ready`` (or whose ready record names a different item count than the rows the
search can see) would be a half-ingested document shown to a user.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TOPICS = (
    "power supply replacement",
    "RAID controller rebuild",
    "rack cooling and airflow",
    "network switch VLAN setup",
    "database backup schedule",
    "firmware update procedure",
    "UPS battery inspection",
    "cable labelling standard",
    "disk failure triage",
    "BMC password rotation",
)
QUERIES = (
    "how to replace the power supply module",
    "RAID rebuild after a disk failure",
    "cooling airflow in the rack",
    "VLAN configuration on the switch",
    "backup schedule",
    "firmware update steps",
    "UPS battery check",
    "cable labels",
    "BMC password",
)


def write_notes(folder: Path, count: int, *, prefix: str = "note") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        path = folder / f"{prefix}-{i:04d}.md"
        path.write_text(
            f"# {topic.title()} note {i}\n\nKnowledge base note {i} about {topic}. "
            f"Reference token ldtok{i:04d}. Follow the {topic} checklist and record the result.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


@dataclass
class LoadReport:
    searches: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    hits_checked: int = 0
    not_ready_hits: list[str] = field(default_factory=list)
    ingest_seconds: float = 0.0
    files: int = 0
    ingested: int = 0

    def p(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, round(q * (len(data) - 1)))]

    def summary(self) -> dict[str, float | int]:
        return {
            "files": self.files,
            "ingested": self.ingested,
            "ingest_seconds": round(self.ingest_seconds, 2),
            "files_per_second": round(self.files / self.ingest_seconds, 2) if self.ingest_seconds else 0.0,
            "searches": self.searches,
            "errors": len(self.errors),
            "search_p50_ms": round(self.p(0.50), 1),
            "search_p95_ms": round(self.p(0.95), 1),
            "search_mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else 0.0,
            "hits_checked": self.hits_checked,
            "hits_not_ready": len(self.not_ready_hits),
        }


def _check_hits(client: httpx.Client, hits: list[dict], report: LoadReport, lock: threading.Lock) -> None:
    for doc_id in {h["document"]["id"] for h in hits}:
        resp = client.get(f"/v1/documents/{doc_id}")
        with lock:
            report.hits_checked += 1
            if resp.status_code != 200:
                report.not_ready_hits.append(f"{doc_id}: GET answered {resp.status_code}")
                continue
            doc = resp.json()
            if doc["status"] != "ready":
                report.not_ready_hits.append(f"{doc_id}: status {doc['status']}")


def _searcher(url: str, stop: threading.Event, report: LoadReport, lock: threading.Lock, seed: int) -> None:
    i = seed
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            # Alternate topic queries with a token of a recently written note (often mid-ingest).
            text = QUERIES[i % len(QUERIES)] if i % 2 else f"ldtok{(i * 7) % max(1, report.files):04d}"
            i += 1
            started = time.perf_counter()
            try:
                resp = client.post("/v1/search", json={"text": text, "top_k": 10})
            except httpx.HTTPError as exc:
                with lock:
                    report.errors.append(f"{text!r}: {exc!r}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                report.searches += 1
                if resp.status_code != 200:
                    report.errors.append(f"{text!r}: HTTP {resp.status_code} {resp.text[:200]}")
                    continue
                report.latencies_ms.append(elapsed)
            _check_hits(client, resp.json()["results"], report, lock)


def _wait_job(client: httpx.Client, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.25)
    raise TimeoutError(f"ingest job {job_id} did not finish within {timeout} s")


def search_during_ingest(
    url: str, paths: list[Path], *, searchers: int = 2, batch: int = 50, timeout: float = 600.0
) -> LoadReport:
    """Upload `paths` in jobs of `batch` files while `searchers` threads search; returns the report."""
    report = LoadReport(files=len(paths))
    lock = threading.Lock()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_searcher, args=(url, stop, report, lock, s), daemon=True)
        for s in range(searchers)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            job_ids = []
            for start in range(0, len(paths), batch):
                chunk = paths[start : start + batch]
                files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in chunk]
                resp = client.post("/v1/documents", files=files)
                resp.raise_for_status()
                job_ids.append(resp.json()["job_id"])
            for job_id in job_ids:
                job = _wait_job(client, job_id, timeout)
                report.ingested += sum(r["status"] == "ingested" for r in job["results"])
        report.ingest_seconds = time.perf_counter() - started
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    return report
