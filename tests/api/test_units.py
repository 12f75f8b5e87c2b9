"""Auth, file resolution and limits in isolation (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlsearch.api.auth import Caller, KeyRing, hash_key, is_loopback, key_from_headers
from vlsearch.api.errors import ApiError, UnauthorizedError
from vlsearch.api.files import data_file, original_file
from vlsearch.api.limits import ApiLimits
from vlsearch.api.originals import OriginalLinks
from vlsearch.api.routers.search import snippet
from vlsearch.config import get_settings
from vlsearch.errors import InputRejectedError
from vlsearch.types import Document


def test_keyring_maps_keys_to_groups_by_digest() -> None:
    ring = KeyRing({hash_key("k1"): ["a"], hash_key("k2").upper(): ["b", "c"]})
    assert ring.authenticate("k1").groups == ("a",)
    assert ring.authenticate("k2").groups == ("b", "c")
    assert ring.authenticate("k1").key_id == hash_key("k1")[:8]
    with pytest.raises(UnauthorizedError):
        ring.authenticate("k3")
    with pytest.raises(UnauthorizedError):
        ring.authenticate(None)
    # the digest itself is not a key
    with pytest.raises(UnauthorizedError):
        ring.authenticate(hash_key("k1"))


def test_no_keys_means_unrestricted_caller() -> None:
    caller = KeyRing({}).authenticate(None)
    assert caller.groups is None and caller.can_see(("anything",))
    assert not Caller(groups=()).can_see(("a",))
    assert Caller(groups=("a", "b")).can_see(("b", "z"))


def test_key_headers() -> None:
    assert key_from_headers(" k ", None) == "k"
    assert key_from_headers(None, "Bearer abc") == "abc"
    assert key_from_headers(None, "Basic abc") is None
    assert key_from_headers(None, None) is None


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.com")


def test_serve_refuses_a_public_bind_without_keys(tmp_path: Path) -> None:
    from vlsearch.api.app import serve

    with pytest.raises(InputRejectedError, match="loopback"):
        serve(get_settings(host="0.0.0.0", data_dir=tmp_path, api_keys={}))


def test_data_file_never_leaves_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "media").mkdir(parents=True)
    (data / "media" / "ok.jpg").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("secret")
    (data / "media" / "link.jpg").symlink_to(tmp_path / "secret.txt")
    settings = get_settings(data_dir=data)
    assert data_file(settings, "media/ok.jpg").read_bytes() == b"x"
    for bad in (
        "../secret.txt",
        "media/../../secret.txt",
        str(tmp_path / "secret.txt"),
        "media/link.jpg",
        "",
    ):
        with pytest.raises(ApiError) as info:
            data_file(settings, bad)
        assert info.value.http_status == 404


def test_original_of_a_path_document_must_be_inside_an_allowed_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    inside_file = root / "a.pdf"
    inside_file.write_bytes(b"%PDF")
    outside = tmp_path / "b.pdf"
    outside.write_bytes(b"%PDF")
    settings = get_settings(data_dir=tmp_path / "data", allowed_roots=[root])

    def doc(source: str) -> Document:
        return Document(id="d", source=source, name="a.pdf", sha256="0" * 64, doc_type="pdf", groups=())

    assert original_file(settings, doc(str(inside_file))) == inside_file.resolve()
    with pytest.raises(ApiError):
        original_file(settings, doc(str(outside)))
    with pytest.raises(ApiError):
        original_file(settings, doc("record:x"))


def test_limits_pick_the_right_budget() -> None:
    limits = ApiLimits.from_settings(get_settings(max_file_mb=10))
    assert limits.for_request("POST", "/v1/documents", "multipart/form-data; boundary=x") == (
        "document_upload",
        40 << 20,
    )
    assert limits.for_request("POST", "/v1/search/upload", "multipart/form-data")[0] == "query_upload"
    assert limits.for_request("POST", "/v1/search", "application/json") == ("json_body", 2 << 20)
    assert limits.for_request("POST", "/v2/rerank", "application/json") == ("rerank_json", 24 << 20)


def test_data_uri_media_are_decoded_under_the_query_upload_limit(tmp_path: Path) -> None:
    import base64
    import io
    from types import SimpleNamespace

    from PIL import Image

    from vlsearch.api.auth import Caller
    from vlsearch.api.errors import ApiError
    from vlsearch.api.media_refs import MediaResolver

    png = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(png, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
    state = SimpleNamespace(limits=ApiLimits(query_upload_bytes=len(png.getvalue()) + 10))
    resolver = MediaResolver(state=state, caller=Caller(groups=("g",)), folder=tmp_path)  # type: ignore[arg-type]
    path = Path(resolver.ref(uri, what="image"))
    assert path.parent == tmp_path and path.read_bytes() == png.getvalue() and path.suffix == ".png"
    small = MediaResolver(
        state=SimpleNamespace(limits=ApiLimits(query_upload_bytes=16)),
        caller=Caller(groups=("g",)),
        folder=tmp_path,
    )  # type: ignore[arg-type]
    with pytest.raises(ApiError, match="over the query_upload limit of 16 bytes") as too_big:
        small.ref(uri, what="image")
    assert too_big.value.http_status == 413
    text = "data:image/png;base64," + base64.b64encode(b"just some text, not a picture").decode("ascii")
    with pytest.raises(ApiError, match="not an image or a video"):
        resolver.ref(text, what="image")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # the refused bytes are not kept


def test_snippet_is_flat_and_bounded() -> None:
    assert snippet("a\n\n b") == "a b"
    long = "word " * 200
    cut = snippet(long)
    assert len(cut) <= 321 and cut.endswith("…") and not cut.endswith(" …")
    assert snippet("电" * 400).endswith("…")


def test_key_config_takes_groups_or_a_grant_with_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    grants = {hash_key("plain"): ["ops"], hash_key("boss"): {"groups": ["ops"], "roles": ["admin"]}}
    monkeypatch.setenv("VLSEARCH_API_KEYS", json.dumps(grants))
    ring = KeyRing(get_settings().api_keys)
    plain, boss = ring.authenticate("plain"), ring.authenticate("boss")
    assert plain.groups == boss.groups == ("ops",)
    assert not plain.is_admin and not plain.may_scrape_metrics and boss.is_admin
    assert Caller(groups=None).is_admin  # auth off: loopback only, the local user runs the server
    monkeypatch.setenv("VLSEARCH_API_KEYS", json.dumps({hash_key("x"): {"roles": ["root"]}}))
    with pytest.raises(ValueError, match="roles"):
        get_settings()


def test_original_links_expire_and_cannot_be_forged() -> None:
    links = OriginalLinks(ttl_s=60, secret=b"s" * 32)
    token = links.issue("d" + "0" * 20, ("ops",), now=1000.0)
    assert links.redeem(token, now=1059.0) == ("d" + "0" * 20, ("ops",))
    with pytest.raises(ApiError, match="expired"):
        links.redeem(token, now=1061.0)
    body, _, signature = token.partition(".")
    other = OriginalLinks(ttl_s=60, secret=b"t" * 32).issue("d" + "1" * 20, None, now=1000.0)
    for forged in (f"{other.partition('.')[0]}.{signature}", f"{body}.{signature[:-2]}AA", "x", "x.y.z"):
        with pytest.raises(ApiError) as info:
            links.redeem(forged, now=1001.0)
        assert info.value.http_status == 404
