"""Run a throwaway PostgreSQL server on loopback, for tests and benchmarks.

    with postgres_server() as server:
        url = server.create_database("catalog_test")   # postgresql+psycopg://... for Catalog(url=)

The server is initdb'ed into a fresh temporary folder, listens on 127.0.0.1 on a free port with
trust authentication, runs with fsync off (test data only), and is stopped and deleted on exit.
PostgreSQL refuses to run as root, so under root it runs as the `postgres` user that the Debian
package creates. `find_postgres_bin()` says why a server cannot be started (for clean test skips).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vlsearch.testing.milvus_server import free_port

_LOOPBACK = "127.0.0.1"
_SEARCH_ROOTS = (Path("/usr/lib/postgresql"),)
_SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says what to install."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    bin_dir: Path
    data_dir: Path
    log_path: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create (or recreate, empty) database `name` and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: use letters, digits and '_'")
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=_SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def find_postgres_bin() -> Path:
    """The newest installed PostgreSQL bin dir with initdb and pg_ctl, or PostgresUnavailable."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable(
            "the psycopg driver is not installed: pip install 'psycopg[binary]'"
        ) from exc
    candidates: list[Path] = []
    for root in _SEARCH_ROOTS:
        if root.is_dir():
            candidates += [d / "bin" for d in root.iterdir() if (d / "bin" / "initdb").exists()]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bin_dir in sorted(candidates, key=_major, reverse=True):
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH; "
        "install them with `apt-get install postgresql` (make test does this when run as root)"
    )


def _major(bin_dir: Path) -> int:
    name = bin_dir.parent.name
    return int(name) if name.isdigit() else 0


def _run_as() -> list[str]:
    """Command prefix that runs a PostgreSQL binary as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(_SUPERUSER)
    except KeyError as exc:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' user to run PostgreSQL as; "
            "install the Debian postgresql package (it creates the user)"
        ) from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root without `runuser` to drop to the 'postgres' user")
    return [runuser, "-u", _SUPERUSER, "--"]


@contextmanager
def postgres_server(*, port: int | None = None, startup_timeout: float = 60.0) -> Iterator[PostgresServer]:
    bin_dir = find_postgres_bin()
    prefix = _run_as()
    base = Path(tempfile.mkdtemp(prefix="vlsearch-pg-"))
    data = base / "data"
    log_path = base / "server.log"
    if prefix:
        entry = pwd.getpwnam(_SUPERUSER)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    port = port or free_port()
    started = False
    try:
        _check(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                _SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            "initdb",
        )
        options = f"-c listen_addresses={_LOOPBACK} -p {port} -k {base} -F -c max_connections=200"
        _check(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log_path),
                "-o",
                options,
                "-w",
                "-t",
                str(int(startup_timeout)),
                "start",
            ],
            "pg_ctl start",
            log_path=log_path,
        )
        started = True
        yield PostgresServer(host=_LOOPBACK, port=port, bin_dir=bin_dir, data_dir=data, log_path=log_path)
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(base, ignore_errors=True)


def _check(cmd: list[str], what: str, *, log_path: Path | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        log = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
        raise PostgresUnavailable(f"{what} failed ({proc.returncode}): {proc.stderr[-2000:]}{log}")
