"""The compose stack's structure, the Dockerfile's layering and the secrets gate (no Docker here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "docker" / "check_secrets.py"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def _gpu_reserved(service: dict[str, Any]) -> bool:
    devices = service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    return any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices)


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {"etcd", "minio", "milvus", "postgres", "api", "worker", "reranker", "secrets-check"}
    assert expected <= set(services)
    assert services["milvus"]["image"].startswith("milvusdb/milvus:v3.")
    assert services["milvus"]["command"] == ["milvus", "run", "standalone"]
    assert services["reranker"]["profiles"] == ["vllm"], "the vLLM reranker is optional"


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("etcd", "minio", "milvus", "postgres", "api", "reranker"):
        check = compose["services"][name].get("healthcheck")
        assert check and check["test"], f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_startup_order_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    s = compose["services"]
    assert _depends(s["milvus"]) == {"etcd": "service_healthy", "minio": "service_healthy"}
    assert _depends(s["api"]) == {"milvus": "service_healthy", "postgres": "service_healthy"}
    assert _depends(s["worker"])["milvus"] == "service_healthy"
    assert _depends(s["worker"])["postgres"] == "service_healthy"
    for name in ("etcd", "minio", "postgres", "reranker"):
        assert _depends(s[name]) == {"secrets-check": "service_completed_successfully"}


def test_gpu_reservations_and_worker_replicas(compose: dict[str, Any]) -> None:
    s = compose["services"]
    assert _gpu_reserved(s["api"]) and _gpu_reserved(s["reranker"])
    assert not _gpu_reserved(s["worker"])
    assert str(s["worker"]["deploy"]["replicas"]).startswith("${VLSEARCH_WORKERS")


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    s = compose["services"]
    named = set(compose["volumes"])
    mounts = {
        "etcd": "/etcd",
        "minio": "/minio_data",
        "milvus": "/var/lib/milvus",
        "postgres": "/var/lib/postgresql/data",
        "api": "/data",
        "worker": "/data",
    }
    for name, target in mounts.items():
        sources = {v.split(":")[0] for v in s[name]["volumes"] if v.split(":")[1] == target}
        assert sources and sources <= named, f"{name}:{target} is not on a named volume"
    # API and workers share the media/uploads volume: workers write what the API serves.
    assert "vlsearch-data:/data" in s["api"]["volumes"] and "vlsearch-data:/data" in s["worker"]["volumes"]


def test_secrets_come_from_env_without_defaults(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "MINIO_ROOT_USER", "VLSEARCH_API_KEYS"):
        assert f"${{{name}:?" in text, f"{name} must be required (${{{name}:?...}}), not defaulted"
    assert "minioadmin" not in text
    api_env = compose["services"]["api"]["environment"]
    assert api_env["VLSEARCH_MILVUS_URI"] == "http://milvus:19530"
    assert api_env["VLSEARCH_CATALOG_URL"].startswith("postgresql+psycopg://")
    # Only the API is reachable from the host.
    published = [n for n, svc in compose["services"].items() if svc.get("ports")]
    assert published == ["api"]


def _example_env() -> dict[str, str]:
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _example_env()}
    return subprocess.run(
        [sys.executable, str(CHECK)], env={**clean, **env}, capture_output=True, text=True, timeout=30
    )


def test_env_example_names_every_variable_compose_requires(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    example = _example_env()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"


def test_placeholder_secrets_are_refused_unless_dev_defaults() -> None:
    example = _example_env()
    refused = _check(example)
    assert refused.returncode == 1
    assert "POSTGRES_PASSWORD" in refused.stderr and "VLSEARCH_DEV_DEFAULTS=1" in refused.stderr
    tutorial = _check({**example, "MINIO_ROOT_USER": "minioadmin", "MINIO_ROOT_PASSWORD": "minioadmin"})
    assert tutorial.returncode == 1 and "MINIO_ROOT_PASSWORD" in tutorial.stderr
    dev = _check({**example, "VLSEARCH_DEV_DEFAULTS": "1"})
    assert dev.returncode == 0 and "WARNING" in dev.stdout


def test_strong_secrets_pass() -> None:
    strong = {
        "POSTGRES_PASSWORD": "x7Vq2pLm9RtZ4wKs8N",
        "MINIO_ROOT_USER": "vlsearch-store",
        "MINIO_ROOT_PASSWORD": "Hq3mZ8vR2kLp7tWx5Y",
        "VLSEARCH_API_KEYS": '{"3b1f8c0e": ["ops"]}',
        "VLLM_API_KEY": "",
        "VLSEARCH_DEV_DEFAULTS": "0",
    }
    done = _check(strong)
    assert done.returncode == 0, done.stderr
    short = _check({**strong, "POSTGRES_PASSWORD": "short-pass"})
    assert short.returncode == 1 and "shorter than 16" in short.stderr


def test_dockerfile_caches_dependencies_before_the_code() -> None:
    # One entry per instruction: continuation lines joined.
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()]
    steps = [ln for ln in lines if ln.split(" ", 1)[0] in ("COPY", "RUN", "FROM")]
    first_pyproject = next(i for i, ln in enumerate(steps) if ln.startswith("COPY pyproject.toml"))
    first_code = next(i for i, ln in enumerate(steps) if ln.startswith("COPY vlsearch"))
    deps = [i for i, ln in enumerate(steps) if ln.startswith("RUN") and "pip install" in ln]
    assert deps and deps[0] < first_pyproject < deps[1] < first_code
    assert any("--mount=type=cache" in ln for ln in steps)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "data", ".git"} <= set(ignored)
