"""The host facts every benchmark result carries: timings on these shared 2 cores mean little
without the load they were taken under."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine_facts(load_start: tuple[float, float, float]) -> dict[str, Any]:
    """Cores, platform, Python and the load average at the start (given) and now (the end)."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
    }
