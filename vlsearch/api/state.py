"""Everything one app instance owns besides the Runtime: auth, metrics, limits, background workers."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.api.auth import KeyRing
from vlsearch.api.limits import ApiLimits
from vlsearch.api.media_fetch import MediaFetcher
from vlsearch.api.metrics import Metrics
from vlsearch.api.originals import OriginalLinks
from vlsearch.errors import StoreUnavailableError

log = logging.getLogger("vlsearch.api")

_RECONNECT_EVERY_S = 5.0

if TYPE_CHECKING:
    from vlsearch.api.workers import IngestJobs, ModelLoader
    from vlsearch.runtime import Runtime
    from vlsearch.worker import QueuedIngestJobs


@dataclass
class ApiState:
    runtime: Runtime
    keyring: KeyRing
    metrics: Metrics
    limits: ApiLimits
    jobs: IngestJobs | QueuedIngestJobs
    loader: ModelLoader
    scratch_dir: Path  # per-request query uploads live here and are deleted after the request
    fetcher: MediaFetcher  # rerank media URLs: deadlines, slots, allow-list
    media_url_hosts: tuple[str, ...] = ()  # hosts rerank may fetch media URLs from (none by default)
    store_connected: bool = True
    links: OriginalLinks = field(default_factory=OriginalLinks)  # signed links to originals
    _reconnect_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_attempt: float = 0.0

    def ensure_store(self) -> None:
        """After Milvus was unreachable, retry the connection (at most every few seconds)."""
        if self.store_connected:
            return
        with self._reconnect_lock:
            now = time.monotonic()
            if self.store_connected or now - self._last_attempt < _RECONNECT_EVERY_S:
                return
            self._last_attempt = now
            try:
                self.runtime.store.connect(wait=False)
            except StoreUnavailableError as exc:
                log.warning("Milvus still unreachable: %s", exc)
                return
            self.store_connected = True
            log.info("reconnected to Milvus")
