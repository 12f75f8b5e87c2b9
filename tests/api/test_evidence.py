"""Evidence regions over HTTP: boxes on a hit's page render / photo, snippet marks, and access
control as an attacker probes it (a hidden document's lines never show in highlights, snippets,
counts or the media the viewer opens)."""

from __future__ import annotations

import io

from PIL import Image

from tests.api.conftest import Deployment


def _search(client, text: str, **extra) -> dict:
    resp = client.post("/v1/search", json={"text": text, "rerank": False, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_pdf_hit_boxes_its_answer_line_on_its_rendered_page(deployment: Deployment, alpha) -> None:
    body = _search(alpha, "what does error code E-17 mean")
    hit = body["results"][0]
    assert hit["document"]["id"] == deployment.pdf_id and hit["locator"]["page"] == 2
    assert "highlight" in body["timings_ms"]
    assert hit["highlights"], hit
    best = hit["highlights"][0]
    assert "E-17" in best["text"]
    assert 0 < best["score"] <= 1 and len(hit["highlights"]) <= 5
    x0, y0, x1, y1 = best["box"]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    # the boxes are on the media as served: the page render (and its thumbnail, same aspect)
    assert hit["media_url"] == f"/v1/media/{hit['id']}?kind=image"
    media = alpha.get(hit["media_url"])
    thumb = alpha.get(hit["thumbnail_url"])
    assert media.status_code == 200 and thumb.status_code == 200
    page, small = Image.open(io.BytesIO(media.content)), Image.open(io.BytesIO(thumb.content))
    assert abs(page.width / page.height - small.width / small.height) < 0.02
    assert page.height > page.width  # an A4 page, portrait
    assert hit["original_url"].endswith("kind=original#page=2")
    assert alpha.get(hit["original_url"].split("#")[0]).status_code == 200
    marks = [hit["snippet"][s["start"] : s["end"]].lower() for s in hit["snippet_highlights"]]
    assert "e-17" in marks and "error" in marks  # the code's two tokens marked as one


def test_a_photo_hit_boxes_the_label_its_ocr_read(deployment: Deployment, alpha) -> None:
    hits = _search(alpha, "Node-07", per_doc_limit=0)["results"]
    photo = next(h for h in hits if h["document"]["id"] == deployment.photo_id)
    assert photo["highlights"] and "Node-07" in photo["highlights"][0]["text"]
    assert photo["media_url"] == f"/v1/media/{photo['id']}?kind=image"


def test_hidden_documents_never_leak_lines_counts_or_pages(deployment: Deployment, alpha, beta, both) -> None:
    probes = ("release latch slide the PSU out E-17", "Node-07 rack", "replace the power supply module")
    alpha_only = ("latch", "E-17", "Node-07", "PDU")
    for text in probes:
        body = _search(beta, text, top_k=100, per_doc_limit=0)
        assert {h["document"]["id"] for h in body["results"]} <= {deployment.md_id}
        # every candidate counted is one beta may see and got back
        assert body["total_candidates"] == len(body["results"])
        for hit in body["results"]:
            shown = " ".join([hit["snippet"], *(h["text"] for h in hit["highlights"])])
            assert not any(word in shown for word in alpha_only), shown
    # the same probe by a caller who may see both does box alpha's lines (the check above can fail)
    seen = _search(both, probes[0], per_doc_limit=0)["results"]
    pdf_hit = next(h for h in seen if h["document"]["id"] == deployment.pdf_id)
    assert any("latch" in h["text"] or "E-17" in h["text"] for h in pdf_hit["highlights"])
    # the viewer's media of that hit: the page render, its thumbnail, the original
    for kind in ("image", "thumbnail", "original"):
        resp = beta.get(f"/v1/media/{pdf_hit['id']}?kind={kind}")
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
        assert alpha.get(f"/v1/media/{pdf_hit['id']}?kind={kind}").status_code == 200
