"""Evidence in the browser: boxes over result thumbnails, the viewer with the full page / frame and
its boxes, the video player at the keyframe's moment, all under the UI's Content-Security-Policy.
Screenshots go to test-artifacts/ (evidence-*.png)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import UiDeployment, shot

pytestmark = pytest.mark.browser

# the policy every page of the UI must live with (COMMON.md): the server's own header is checked, and
# any violation the page reports fails the test
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _open_under_csp(page) -> None:
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = page.goto("/")
    assert response is not None and response.headers.get("content-security-policy") == CSP


def _rects(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return {x: r.x, y: r.y, w: r.width, h: r.height, hidden: !!e.closest('[hidden]')}; })",
    )


def test_a_pdf_hit_shows_its_answer_line_boxed_in_the_card_and_the_viewer(
    page, ui_deployment: UiDeployment
) -> None:
    _open_under_csp(page)
    page.fill("#q-text", "what does error code E-17 mean")
    page.uncheck("#q-rerank")
    page.click("#search-btn")
    first = page.locator(".hit").first
    first.wait_for()
    assert "psu_manual.pdf" in first.locator(".doc-name").inner_text()
    assert int(first.get_attribute("data-boxes") or 0) >= 1
    first.locator(".ev-frame[data-placed]").wait_for()
    assert "E-17" in (first.locator(".box.best").get_attribute("title") or "")
    # the page is scrolled inside the thumbnail so the best box shows
    thumb = _rects(page, ".hit >> nth=0 >> .thumb")[0]
    best = _rects(page, ".hit >> nth=0 >> .box.best")[0]
    assert thumb["y"] <= best["y"] and best["y"] + best["h"] <= thumb["y"] + thumb["h"] + 1
    marks = first.locator(".snippet mark").all_inner_texts()
    assert "E-17" in marks and "error" in [m.lower() for m in marks]
    shot(page, "evidence-results-pdf")

    first.locator(".thumb").click()
    viewer = page.locator("#viewer")
    viewer.wait_for()
    img = viewer.locator(".viewer-frame img")
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    hit = page.evaluate(
        "async () => { const r = await fetch('/v1/search', {method: 'POST', headers: {'content-type': "
        "'application/json', 'X-API-Key': localStorage.getItem('vlsearch.apiKey')}, body: JSON.stringify("
        "{text: 'what does error code E-17 mean', rerank: false})}); return (await r.json()).results[0]; }"
    )
    frame = _rects(page, "#viewer .viewer-frame img")[0]
    boxes = _rects(page, "#viewer .box")
    assert len(boxes) == len(hit["highlights"]) >= 1
    for drawn, h in zip(boxes, hit["highlights"], strict=True):
        x0, y0, x1, y1 = h["box"]
        assert abs(drawn["h"] - (y1 - y0) * frame["h"]) < 8
        # drawn where the API says, on the image as shown (CSS pads each box by 2 px)
        assert abs(drawn["x"] - (frame["x"] + x0 * frame["w"])) < 4
        assert abs(drawn["y"] - (frame["y"] + y0 * frame["h"])) < 4
        assert abs(drawn["w"] - (x1 - x0) * frame["w"]) < 8
    assert "E-17" in viewer.locator(".viewer-lines li").first.inner_text()
    shot(page, "evidence-viewer-pdf")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.getElementById('viewer').open")
    assert page.evaluate("window.__csp") == []


def test_a_video_frame_hit_plays_from_its_moment_with_its_text_boxed(
    page, ui_deployment: UiDeployment
) -> None:
    _open_under_csp(page)
    page.fill("#q-text", "slide the server into the rack")
    page.uncheck("#q-rerank")
    page.click("#search-btn")
    page.wait_for_selector(".hit")
    frame_hit = page.locator(".hit[data-modality=frame]").first
    frame_hit.wait_for()
    assert int(frame_hit.get_attribute("data-boxes") or 0) >= 1
    frame_hit.locator(".ev-frame[data-placed]").wait_for()
    shot(page, "evidence-results-video")
    frame_hit.locator(".thumb").click()
    video = page.locator("#viewer video")
    video.wait_for()
    page.wait_for_function(
        "el => el.readyState >= 1 && Math.abs(el.currentTime - parseFloat(el.dataset.start)) < 0.6",
        arg=video.element_handle(),
    )
    assert "#t=" in (video.get_attribute("data-media-url") or "")
    video.evaluate("el => el.pause()")
    boxes = _rects(page, "#viewer .box")
    assert boxes and not boxes[0]["hidden"]  # the keyframe's text, boxed at its moment
    player = _rects(page, "#viewer video")[0]
    assert all(player["x"] - 4 <= b["x"] and b["x"] + b["w"] <= player["x"] + player["w"] + 4 for b in boxes)
    assert "slide the server" in page.locator("#viewer .viewer-lines li").first.inner_text().lower()
    shot(page, "evidence-viewer-video")
    # far from the keyframe's moment the boxes are hidden: they belong to that frame
    video.evaluate("el => { el.currentTime = 0; }")
    page.wait_for_function("() => document.querySelector('#viewer .boxes').hidden === true")
    assert page.evaluate("window.__csp") == []
