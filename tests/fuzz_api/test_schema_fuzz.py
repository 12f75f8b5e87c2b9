"""Schemathesis against the live app's own OpenAPI schema: no 5xx, documented statuses and bodies.

Bounded so it fits the suite's budget: a few derandomized examples per operation and a total time
cap (``VLSEARCH_API_FUZZ_EXAMPLES`` / ``VLSEARCH_API_FUZZ_SECONDS`` raise them for longer runs).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.server import LiveServer

EXAMPLES = int(os.environ.get("VLSEARCH_API_FUZZ_EXAMPLES", "8"))
TOTAL_SECONDS = float(os.environ.get("VLSEARCH_API_FUZZ_SECONDS", "75"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Unloading the embedder mid-run is a legitimate state change that would make later searches wait
# for a reload; it is exercised by tests/api. Loading a model that is not configured is fuzzed.
SKIPPED = {("POST", "/v1/models/{name}/unload")}


@dataclass
class Tally:
    cases: int = 0
    per_operation: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _fuzz_operation(
    operation: schemathesis.APIOperation,
    base_url: str,
    tally: Tally,
    deadline: float,
    mode: GenerationMode,
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        if time.monotonic() > deadline:
            return
        case = data.draw(strategy)
        tally.cases += 1
        tally.per_operation[label] = tally.per_operation.get(label, 0) + 1
        try:
            case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=60)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup; collect all
            tally.failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:600]}")

    try:
        run()
    except Unsatisfiable:
        # Nothing about this operation can be made invalid (no parameters, no body).
        assert mode == GenerationMode.NEGATIVE, f"{label}: no valid request could be generated"


def test_api_survives_schema_fuzzing(fuzz_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    tally = Tally()
    deadline = time.monotonic() + TOTAL_SECONDS
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15, "the schema lost operations"
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        # Valid requests (must succeed or answer a documented error), then invalid ones (must be
        # refused with a documented 4xx, never a 5xx).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, fuzz_server.url, tally, deadline, mode)
    print(
        f"\nschemathesis {schemathesis.SCHEMATHESIS_VERSION}: {tally.cases} cases over "
        f"{len(tally.per_operation)} operations, {len(tally.failures)} failures"
    )
    for label, count in sorted(tally.per_operation.items()):
        print(f"  {count:4d}  {label}")
    # The server must still answer after everything it was sent.
    assert httpx.get(f"{fuzz_server.url}/v1/health", timeout=30).status_code == 200
    assert len(tally.per_operation) >= 15, "the time cap cut the run before most operations were fuzzed"
    distinct = sorted(set(tally.failures))
    assert not distinct, f"{len(distinct)} distinct failures:\n\n" + "\n\n".join(distinct[:20])
