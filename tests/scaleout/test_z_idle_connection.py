"""A Store left idle on a `milvus-lite server` keeps its connection (runs last: see idle_probe).

pymilvus's own keepalive (a ping every 10 s, even without calls) makes a default gRPC server answer
GOAWAY "too_many_pings" after about a minute; the Store's channel options must not provoke it."""

from __future__ import annotations

import subprocess

from tests.scaleout.conftest import IDLE_SECONDS


def test_an_idle_connection_survives_past_a_minute(idle_probe: subprocess.Popen[str]) -> None:
    out, err = idle_probe.communicate(timeout=IDLE_SECONDS + 90)
    assert idle_probe.returncode == 0, err[-3000:]
    assert "count after idle: 0" in out
    assert "too_many_pings" not in err, err[-3000:]
    assert "GOAWAY" not in err, err[-3000:]
