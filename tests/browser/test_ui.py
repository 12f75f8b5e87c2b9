"""The web UI in headless chromium: search by text / image / video, model loading, uploads."""

from __future__ import annotations

import pytest

from tests.browser.conftest import UI_KEY, UiDeployment, shot

pytestmark = pytest.mark.browser


def test_text_search_shows_results_with_pages_and_scores(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.fill("#q-text", "how to replace the power supply module")
    page.click("#search-btn")
    page.wait_for_selector(".hit")
    first = page.locator(".hit").first
    assert "psu_manual.pdf" in first.locator(".doc-name").inner_text()
    assert first.locator(".where").inner_text().startswith("p. 2")
    assert first.locator(".retrieval-score").inner_text() != "—"
    assert "candidates" in page.inner_text("#summary")
    shot(page, "search-text")


def test_chinese_renders_in_utf8_with_cjk_fonts(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.click("#lang-toggle")  # switch the interface to 中文; stored in localStorage
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("#search-btn") == "搜索"
    page.fill("#q-text", "电源模块")
    page.click("#search-btn")
    page.wait_for_selector(".hit")
    assert "电源模块更换指南.md" in page.locator(".hit .doc-name").first.inner_text()
    assert "电源模块" in page.locator(".hit .snippet").first.inner_text()
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family and "WenQuanYi Micro Hei" in family
    assert page.evaluate("document.characterSet") == "UTF-8"
    shot(page, "search-chinese")


def test_image_upload_search_shows_thumbnails(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.set_input_files("#q-image", str(ui_deployment.corpus.query_photo))
    page.wait_for_selector("#image-preview img")
    page.click("#search-btn")
    page.wait_for_selector(".hit .thumb img")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.hit .thumb img')].some(i => i.complete && i.naturalWidth > 0)"
    )
    names = page.locator(".hit .doc-name").all_inner_texts()
    assert "node07_rack_warning.jpg" in names
    shot(page, "search-image")


def test_text_photos_and_video_go_in_one_query(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.fill("#q-text", "Node-07 error log analysis")
    corpus = ui_deployment.corpus
    page.set_input_files("#q-image", [str(corpus.query_photo), str(corpus.alpha_photo)])
    page.set_input_files("#q-video", str(ui_deployment.video))
    page.wait_for_selector("#video-info:has-text('Duration')")
    assert page.locator("#image-preview img").count() == 2
    page.locator("#image-preview .thumb-item[data-index='1'] .remove").click()  # drop one again
    page.set_input_files("#q-image", str(corpus.alpha_photo))
    assert page.locator("#image-preview img").count() == 2
    counter = 'vlsearch_searches_total{kind="text+image+video"'
    with ui_deployment.server.client(UI_KEY) as client:
        before = sum(
            float(line.split()[-1])
            for line in client.get("/metrics").text.splitlines()
            if line.startswith(counter)
        )
        page.click("#search-btn")
        page.wait_for_selector(".hit")
        after = sum(
            float(line.split()[-1])
            for line in client.get("/metrics").text.splitlines()
            if line.startswith(counter)
        )
    assert after == before + 1  # one request carried the text, both photos and the video
    assert "node07_rack_warning.jpg" in page.locator(".hit .doc-name").all_inner_texts()
    shot(page, "search-text-photos-video")


def test_video_longer_than_the_limit_is_stopped_in_the_browser(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.set_input_files("#q-video", str(ui_deployment.corpus.long_video))  # 10 s, limit 5 s
    page.wait_for_selector("#form-error:not([hidden])")
    assert "limit" in page.inner_text("#form-error").lower()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.click("#search-btn")
    page.wait_for_timeout(300)
    assert not any("/v1/search" in url for url in requests), requests
    shot(page, "video-too-long")


def test_video_query_and_timestamp_playback(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    page.fill("#q-text", "slide the server into the rack")
    page.set_input_files("#q-video", str(ui_deployment.video))  # 4 s, within the limit
    page.wait_for_selector("#video-info:has-text('Duration')")
    page.click("#search-btn")
    page.wait_for_selector(".hit")
    frame = page.locator(".hit[data-modality=frame]").first
    frame.wait_for()
    label = frame.locator(".where").inner_text()
    assert ":" in label  # a video timestamp such as 00:02
    frame.locator(".thumb").click()  # opens the viewer, its player at the keyframe's moment
    video = page.locator("#viewer video")
    video.wait_for()
    page.wait_for_function("el => !!el.getAttribute('src')", arg=video.element_handle())
    api_url = video.get_attribute("data-media-url") or ""
    assert api_url.startswith("/v1/media/") and "kind=original" in api_url and "#t=" in api_url
    assert "#t=" in (video.get_attribute("src") or "")
    page.wait_for_function(
        "el => el.readyState >= 1 && el.currentTime + 0.6 >= parseFloat(el.dataset.start)",
        arg=video.element_handle(),
    )
    shot(page, "video-playback")


def test_load_model_button_goes_from_unloaded_to_ready(page, ui_deployment: UiDeployment) -> None:
    page.goto("/")
    button = page.locator("button.model-btn[data-model=reranker]")
    button.wait_for()
    if button.get_attribute("data-state") == "ready":
        page.click(".unload-btn[data-model=reranker]")
        page.wait_for_selector("button.model-btn[data-model=reranker][data-state=unloaded]")
    assert button.inner_text().strip() == "Load model"
    shot(page, "model-unloaded")
    button.click()
    page.wait_for_selector("button.model-btn[data-model=reranker][data-state=ready]", timeout=120_000)
    ready = page.locator("button.model-btn[data-model=reranker]")
    assert ready.inner_text().strip() == "Model ready"
    assert ready.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(21, 128, 61)"  # green
    page.fill("#q-text", "power supply")
    page.click("#search-btn")
    page.wait_for_selector(".hit .rerank-score")
    page.wait_for_function("() => document.querySelector('.hit .rerank-score').textContent !== '—'")
    shot(page, "model-ready-reranked")


def test_upload_shows_progress_then_the_document_and_failures(
    page, ui_deployment: UiDeployment, tmp_path
) -> None:
    notes = tmp_path / "wombat_notes.txt"
    notes.write_text("Wombat cabinet cabling notes: label both ends of every cable.", encoding="utf-8")
    page.goto("/documents")
    page.set_input_files("#files", [str(notes), str(ui_deployment.corpus.corrupt_pdf)])
    page.click("#upload-btn")
    page.wait_for_selector("#job[data-status=done], #job[data-status=failed]", timeout=120_000)
    assert page.get_attribute("#job-progress", "data-progress") == "1.000"
    assert page.locator("#job-files li").count() == 2
    failed = page.locator("#job-files li[data-status=failed]")
    assert "broken.pdf" in failed.inner_text() and failed.locator(".reason").inner_text()
    page.wait_for_selector("tr:has-text('wombat_notes.txt')")
    row = page.locator("tr:has-text('wombat_notes.txt')")
    assert row.get_attribute("data-status") == "ready"
    assert page.locator("tr:has-text('broken.pdf') td.err").inner_text()
    shot(page, "documents-upload")


def test_api_key_field_is_stored_and_sent(keyless_page, ui_deployment: UiDeployment) -> None:
    page = keyless_page
    page.goto("/")
    page.wait_for_selector("#models-error:not([hidden])")
    assert "401" in page.inner_text("#models-error")  # no key yet: the envelope's message is shown
    page.fill("#api-key", UI_KEY)
    page.click("#save-key")
    page.wait_for_selector("button.model-btn[data-model=embedder]")
    assert page.evaluate("localStorage.getItem('vlsearch.apiKey')") == UI_KEY
    seen: list[str | None] = []
    page.on("request", lambda r: seen.append(r.headers.get("x-api-key")) if "/v1/search" in r.url else None)
    page.fill("#q-text", "Node-07 rack warning light")
    page.click("#search-btn")
    page.wait_for_selector(".hit .thumb img")
    assert seen == [UI_KEY]
    # thumbnails need the key too: they are fetched with it and shown from blob: URLs
    page.wait_for_function(
        "() => [...document.querySelectorAll('.hit .thumb img')]"
        ".some(i => i.src.startsWith('blob:') && i.naturalWidth > 0)"
    )
    shot(page, "api-key")


def test_api_docs_page_renders_the_openapi_offline(page, ui_deployment: UiDeployment) -> None:
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(ui_deployment.server.url) else None,
    )
    page.goto("/docs")
    page.wait_for_selector(".docs-op")
    text = page.inner_text("#ops")
    for path in ("/v1/search", "/v1/search/upload", "/v1/rerank", "/v1/documents", "/v1/jobs/{job_id}"):
        assert path in text
    assert not [u for u in external if not u.startswith(("blob:", "data:"))], external
    shot(page, "api-docs")
