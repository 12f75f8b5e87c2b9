"""Bounded fuzzing of sniff + extract with mutated real files (hypothesis).

Every mutated file must give an Extraction or a VlsearchError subclass (a clear per-file reason),
never another exception type, and must finish within the per-example deadline. Examples per format:
VLSEARCH_FUZZ_EXAMPLES (default 80); the run is derandomized so it is the same every time.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.seeds import FORMATS, TOKENS, ZIPPED, mutate, mutate_member
from vlsearch.errors import VlsearchError
from vlsearch.ingest.isolation import sniff_and_extract
from vlsearch.ingest.limits import Limits
from vlsearch.types import Extraction

EXAMPLES = int(os.environ.get("VLSEARCH_FUZZ_EXAMPLES", "80"))
LIMITS = Limits(max_pages=50, max_video_seconds=30.0, max_uncompressed_bytes=64 << 20, max_keyframes=8)

_payload = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=32))
_op = st.tuples(
    st.sampled_from(("flip", "insert", "delete", "truncate", "overwrite")),
    st.integers(min_value=0, max_value=1 << 24),
    st.integers(min_value=1, max_value=512),
    _payload,
)
_ops = st.lists(_op, min_size=1, max_size=4)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def check_one(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        result = sniff_and_extract(path, limits=LIMITS)
    except VlsearchError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a reason"
        return
    assert isinstance(result.extraction, Extraction)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_mutated_bytes_fail_cleanly(fmt: str, seeds: dict[str, bytes], fuzz_dir: Path) -> None:
    path = fuzz_dir / f"bytes{FORMATS[fmt]}"

    @FUZZ_SETTINGS
    @given(ops=_ops)
    def run(ops: list[tuple[str, int, int, bytes]]) -> None:
        check_one(path, mutate(seeds[fmt], ops))

    run()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fmt", ZIPPED)
def test_mutated_office_parts_fail_cleanly(fmt: str, seeds: dict[str, bytes], fuzz_dir: Path) -> None:
    path = fuzz_dir / f"member{FORMATS[fmt]}"

    @FUZZ_SETTINGS
    @given(member=st.integers(min_value=0, max_value=200), ops=_ops)
    def run(member: int, ops: list[tuple[str, int, int, bytes]]) -> None:
        check_one(path, mutate_member(seeds[fmt], member, ops))

    run()
