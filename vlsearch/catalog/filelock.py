"""An exclusive advisory lock on a file, held across processes (POSIX flock)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    # SQLite runs CREATE TABLE outside the driver's implicit transactions, so two processes opening
    # a new file at once would both try to create the tables; a lock file serialises them.
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
