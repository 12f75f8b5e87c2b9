"""Refuse to start the compose stack with missing, placeholder or well-known default secrets.

Runs as the one-shot `secrets-check` service every other service waits for. VLSEARCH_DEV_DEFAULTS=1
lets a laptop run with weak values (never set it on a shared host). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys

# Secrets that must be set, with the values people copy from tutorials and our .env.example.
REQUIRED = ("POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "VLSEARCH_API_KEYS")
KNOWN_DEFAULTS = frozenset(
    {"", "change-me", "changeme", "minioadmin", "postgres", "password", "milvus", "admin", "root", "secret"}
)
MIN_PASSWORD_CHARS = 16


def problems(env: dict[str, str]) -> list[str]:
    found: list[str] = []
    for name in REQUIRED:
        value = env.get(name, "")
        if value.strip().lower() in KNOWN_DEFAULTS or "change-me" in value:
            found.append(f"{name} is unset or a placeholder/default value")
    for name in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        value = env.get(name, "")
        if value and len(value) < MIN_PASSWORD_CHARS:
            found.append(f"{name} is shorter than {MIN_PASSWORD_CHARS} characters")
    keys = env.get("VLSEARCH_API_KEYS", "")
    if keys and "change-me" not in keys:
        try:
            parsed = json.loads(keys)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not parsed:
            found.append('VLSEARCH_API_KEYS must be JSON {"<sha256 hex of key>": ["group", ...]}')
    vllm = env.get("VLLM_API_KEY", "")
    if vllm and (vllm.strip().lower() in KNOWN_DEFAULTS or "change-me" in vllm):
        found.append("VLLM_API_KEY is a placeholder/default value")
    return found


def main() -> int:
    env = dict(os.environ)
    found = problems(env)
    if not found:
        print("secrets-check: ok")
        return 0
    if env.get("VLSEARCH_DEV_DEFAULTS") == "1":
        for p in found:
            print(f"secrets-check: WARNING (dev defaults allowed): {p}")
        return 0
    for p in found:
        print(f"secrets-check: {p}", file=sys.stderr)
    print(
        "secrets-check: edit .env (see .env.example), or set VLSEARCH_DEV_DEFAULTS=1 on a private dev box",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
