"""Access control: with keys configured, no endpoint shows a caller another group's document."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.conftest import Deployment
from tests.api.server import wait_for_job


def _envelope(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def test_unknown_or_missing_key_is_401_in_the_envelope(deployment: Deployment) -> None:
    with deployment.server.client("not-a-real-key") as bad, deployment.server.client() as anonymous:
        for client in (bad, anonymous):
            _envelope(client.post("/v1/search", json={"text": "power supply"}), 401, "unauthorized")
            _envelope(client.get("/v1/documents"), 401, "unauthorized")
            _envelope(client.get("/v1/models"), 401, "unauthorized")
    with deployment.server.client() as bearer:
        resp = bearer.get("/v1/documents", headers={"Authorization": "Bearer not-a-real-key"})
        _envelope(resp, 401, "unauthorized")


def test_search_only_returns_the_callers_groups(deployment: Deployment, alpha, beta, both) -> None:
    query = {"text": "replace the power supply module 电源模块", "top_k": 20, "per_doc_limit": 0}
    seen = {}
    for name, client in (("alpha", alpha), ("beta", beta), ("both", both)):
        resp = client.post("/v1/search", json=query)
        assert resp.status_code == 200, resp.text
        seen[name] = {hit["document"]["id"] for hit in resp.json()["results"]}
    assert seen["alpha"] and seen["beta"]
    assert deployment.md_id not in seen["alpha"]
    assert seen["alpha"] <= {deployment.pdf_id, deployment.photo_id}
    assert seen["beta"] == {deployment.md_id}
    assert seen["both"] >= {deployment.pdf_id, deployment.md_id}


def test_document_listing_detail_delete_are_group_scoped(deployment: Deployment, alpha, beta) -> None:
    listed = {d["id"] for d in beta.get("/v1/documents").json()["documents"]}
    assert listed == {deployment.md_id}
    alpha_listed = {d["id"] for d in alpha.get("/v1/documents").json()["documents"]}
    assert {deployment.pdf_id, deployment.photo_id} <= alpha_listed
    assert deployment.md_id not in alpha_listed
    _envelope(beta.get(f"/v1/documents/{deployment.pdf_id}"), 404, "not_found")
    _envelope(beta.get(f"/v1/documents/{deployment.pdf_id}/original"), 404, "not_found")
    _envelope(beta.delete(f"/v1/documents/{deployment.pdf_id}"), 404, "not_found")
    # still there for its owner
    assert alpha.get(f"/v1/documents/{deployment.pdf_id}").status_code == 200


def test_media_and_rerank_references_are_group_scoped(deployment: Deployment, alpha, beta) -> None:
    hits = alpha.post(
        "/v1/search", json={"text": "Node-07 rack warning light", "rerank": False, "per_doc_limit": 0}
    ).json()["results"]
    image_hits = [h for h in hits if h["thumbnail_url"]]
    assert image_hits, hits
    item_id = image_hits[0]["id"]
    assert alpha.get(image_hits[0]["thumbnail_url"]).status_code == 200
    _envelope(beta.get(f"/v1/media/{item_id}?kind=thumbnail"), 404, "not_found")
    _envelope(beta.get(f"/v1/media/{item_id}?kind=original"), 404, "not_found")
    body = {"query": "rack", "documents": [{"item_id": item_id}]}
    _envelope(beta.post("/v1/rerank", json=body), 404, "not_found")
    body = {"query": "rack", "documents": [{"doc_id": deployment.photo_id}]}
    _envelope(beta.post("/v1/rerank", json=body), 404, "not_found")


def test_jobs_are_visible_only_to_their_groups(deployment: Deployment, alpha, beta) -> None:
    resp = alpha.post("/v1/documents", files=[("files", ("notes.txt", b"alpha only notes about racks"))])
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    _envelope(beta.get(f"/v1/jobs/{job_id}"), 404, "not_found")
    assert alpha.get(f"/v1/jobs/{job_id}").status_code == 200


def test_upload_groups_must_be_the_callers(alpha) -> None:
    resp = alpha.post("/v1/documents", files=[("files", ("x.txt", b"hello"))], data={"groups": "alpha,beta"})
    error = _envelope(resp, 403, "forbidden")
    assert "beta" in error["message"]


def test_same_named_uploads_of_two_groups_never_overwrite_each_other(
    deployment: Deployment, alpha, beta, both
) -> None:
    """Two groups upload the same file names at the same moment: each keeps its own document (text,
    groups, original), and neither answer says that the other group has a file of that name."""
    names = [f"handover-{i}.md" for i in range(3)]

    def send(client: httpx.Client, group: str) -> httpx.Response:
        files = [
            ("files", (n, f"# {n}\n\n{group} shift notes: {group}word{i}\n".encode()))
            for i, n in enumerate(names)
        ]
        return client.post("/v1/documents", files=files)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, (alpha, beta), ("alpha", "beta")))
    assert [r.status_code for r in answers] == [202, 202], [r.text for r in answers]
    for client, resp in zip((alpha, beta), answers, strict=True):
        assert wait_for_job(client, resp.json()["job_id"])["status"] == "done"
    for client, group, other in ((alpha, "alpha", "beta"), (beta, "beta", "alpha")):
        for i, name in enumerate(names):
            docs = client.get("/v1/documents", params={"q": name}).json()["documents"]
            assert len(docs) == 1 and docs[0]["groups"] == [group], docs
            original = client.get(f"/v1/documents/{docs[0]['id']}/original").text
            assert f"{group}word{i}" in original and other not in original
        found = client.post("/v1/search", json={"text": f"{other}word0", "rerank": False}).json()["results"]
        assert all(other not in hit["snippet"] for hit in found)
    # an existing document of another group: a new upload of its name is simply another document
    resp = beta.post("/v1/documents", files=[("files", (deployment.corpus.alpha_pdf.name, b"beta text"))])
    assert resp.status_code == 202
    job = wait_for_job(beta, resp.json()["job_id"])
    assert job["status"] == "done" and job["results"][0]["doc_id"] != deployment.pdf_id
    assert alpha.get(f"/v1/documents/{deployment.pdf_id}").json()["groups"] == ["alpha"]
    # the session's other tests count these groups' documents: leave none of this test's behind
    mine = [job["results"][0]["doc_id"]]
    for client in (alpha, beta):
        for name in names:
            mine += [d["id"] for d in client.get("/v1/documents", params={"q": name}).json()["documents"]]
    for doc_id in mine:
        assert both.delete(f"/v1/documents/{doc_id}").status_code == 200


def test_server_paths_are_refused_when_auth_is_on(deployment: Deployment, alpha) -> None:
    body = {"query": "rack", "documents": [{"image": str(deployment.corpus.alpha_photo)}]}
    error = _envelope(alpha.post("/v1/rerank", json=body), 403, "path_not_allowed")
    assert "auth is off" in error["message"]
    body = {"query": "rack", "documents": [{"image": "https://example.com/a.jpg"}]}
    error = _envelope(alpha.post("/v1/rerank", json=body), 403, "path_not_allowed")
    assert "allow-list" in error["message"]
