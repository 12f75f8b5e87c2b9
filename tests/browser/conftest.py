"""Headless Debian chromium driving the web UI against a real server (auth off, loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.corpus import Corpus, write_corpus
from tests.api.server import LiveServer, upload
from vlsearch.api.auth import hash_key
from vlsearch.config import get_settings

UI_KEY = "browser-test-key-41c9"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class UiDeployment:
    server: LiveServer
    corpus: Corpus
    video: Path


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run them"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(scope="session")
def ui_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiDeployment]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from vlsearch.demo.media import racking_video
    from vlsearch.testing.tiny_qwen3vl import build_tiny_qwen3vl

    corpus = write_corpus(tmp_path_factory.mktemp("ui-corpus"))
    video = racking_video(
        corpus.alpha_pdf.parent / "server_racking.mp4", seconds_per_step=1.0, fps=2, size=(320, 180)
    )
    tiny = build_tiny_qwen3vl(tmp_path_factory.mktemp("ui-tiny-reranker"))
    settings = get_settings(
        data_dir=tmp_path_factory.mktemp("ui-data"),
        profile="cpu",
        rerank_on_cpu=True,
        reranker=str(tiny),
        max_query_video_seconds=5.0,
        api_keys={hash_key(UI_KEY): {"groups": ["ops"], "roles": ["admin"]}},  # the UI loads models
    )
    server = LiveServer.start(settings)
    try:
        with server.client(UI_KEY) as client:
            job = upload(client, [corpus.alpha_pdf, corpus.alpha_photo, corpus.beta_md, video])
        assert job["status"] == "done", job
        yield UiDeployment(server=server, corpus=corpus, video=video)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(ui_deployment: UiDeployment) -> Iterator:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def page(browser, ui_deployment: UiDeployment) -> Iterator:
    """A page whose localStorage already holds the API key (as after the user saved it once)."""
    yield from _page(browser, ui_deployment, key=UI_KEY)


@pytest.fixture()
def keyless_page(browser, ui_deployment: UiDeployment) -> Iterator:
    yield from _page(browser, ui_deployment, key=None)


def _page(browser, ui_deployment: UiDeployment, *, key: str | None) -> Iterator:
    context = browser.new_context(base_url=ui_deployment.server.url, viewport={"width": 1280, "height": 900})
    if key:
        context.add_init_script(f"localStorage.setItem('vlsearch.apiKey', {key!r});")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
