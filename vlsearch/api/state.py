"""Everything one app instance owns besides the Runtime: auth, metrics, limits, background workers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vlsearch.api.auth import KeyRing
from vlsearch.api.limits import ApiLimits
from vlsearch.api.metrics import Metrics

if TYPE_CHECKING:
    from vlsearch.api.workers import IngestJobs, ModelLoader
    from vlsearch.runtime import Runtime


@dataclass
class ApiState:
    runtime: Runtime
    keyring: KeyRing
    metrics: Metrics
    limits: ApiLimits
    jobs: IngestJobs
    loader: ModelLoader
    scratch_dir: Path  # per-request query uploads live here and are deleted after the request
    media_url_hosts: tuple[str, ...] = ()  # hosts rerank may fetch media URLs from (none by default)
