"""Public request/response shapes of the HTTP API (separate from the internal records in vlsearch.types)."""
