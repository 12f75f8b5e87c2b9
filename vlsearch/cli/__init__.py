"""`vlsearch` command line: serve | ingest | search | eval | rerank | demo | models | worker | enqueue |
doctor | export | import.

One module per command group: documents (ingest, search, rerank), serving (serve, demo, models,
worker, enqueue), evaluate (eval and the set writers), ops (doctor, export, import); app holds the
Typer app and what they share. Importing the package registers every command."""

from vlsearch.cli import documents, evaluate, ops, serving
from vlsearch.cli.app import app

__all__ = ["app", "documents", "evaluate", "main", "ops", "serving"]


def main() -> None:
    app()
