"""``GET /api/ui``: the demo page and its allow-listed files, nothing more."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import Request

from shared.demo_ui import ASSETS, WEB_ROOT, asset, page
from tests.builders import AZURE_TEST_KEY


def fake_request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""})


def test_the_page_is_html_with_a_strict_policy(http: httpx.Client) -> None:
    response = http.get("/api/ui")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    assert '<script type="module" src="ui/demo.js"></script>' in response.text


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_asset_is_served_whole_with_its_type(http: httpx.Client, name: str) -> None:
    response = http.get(f"/api/ui/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == ASSETS[name].media_type
    assert response.content == (WEB_ROOT / ASSETS[name].path).read_bytes()
    assert AZURE_TEST_KEY not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "README.md",
        "package.json",
        "relay-client.d.ts",
        "node_modules",
        "DEMO.JS",
        "demo.js.map",
        "..%2F..%2Fhost.json",
        "..%2fshared%2fconfig.py",
        "%2e%2e%2f%2e%2e%2flocal.settings.json",
        "..",
        "index.html%00.js",
        "%2Fetc%2Fpasswd",
        "test%2Ffixtures%2Fopenai.sse",
    ],
)
def test_anything_else_is_404(http: httpx.Client, path: str) -> None:
    """Whichever layer answers (the host's router or the function), nothing is served."""
    assert http.get(f"/api/ui/{path}").status_code == 404


@pytest.mark.parametrize("path", ["/api/ui/../host.json", "/api/ui/..", "/api/ui/", "/etc/passwd", "/api/ui/x\\..\\a"])
def test_the_function_serves_no_decoded_traversal(path: str) -> None:
    """What the worker may hand over after decoding ``%2F``: still only the last segment, looked up."""
    response = asset(fake_request(path))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_an_unknown_file_gets_the_relay_error_shape(http: httpx.Client) -> None:
    error = http.get("/api/ui/secrets.txt").json()["error"]
    assert (error["code"], error["type"]) == ("not_found", "invalid_request_error")


def test_only_get_is_routed(http: httpx.Client) -> None:
    assert http.post("/api/ui", content=b"").status_code == 405
    assert http.post("/api/ui/demo.js", content=b"").status_code == 405


def test_a_trailing_slash_redirects_so_relative_links_resolve() -> None:
    response = page(fake_request("/api/ui/"))
    assert response.status_code == 308
    assert response.headers["location"] == "/api/ui"


def test_every_file_the_page_links_or_imports_is_allow_listed() -> None:
    html = (WEB_ROOT / "index.html").read_text(encoding="utf-8")
    linked = re.findall(r'(?:src|href)="ui/([^"]+)"', html)
    # Static imports between the page's modules, and the vendored libraries markdown.js loads by URL.
    imported = {
        name
        for module in WEB_ROOT.glob("*.js")
        for name in re.findall(r'(?:from |vendored\()"\./([^"$]+)"', module.read_text(encoding="utf-8"))
    }
    languages = re.search(r"HIGHLIGHT_LANGUAGES = \[([^\]]+)\]", (WEB_ROOT / "markdown.js").read_text(encoding="utf-8"))
    assert linked and imported and languages
    highlighters = {f"hljs-{name}.min.js" for name in re.findall(r'"([\w-]+)"', languages.group(1))}
    assert {"demo.js", "turns.js", "marked.esm.js", "purify.min.js"} <= set(linked) | imported
    assert set(linked) | imported | highlighters <= set(ASSETS)


def test_every_allow_listed_file_exists() -> None:
    for found in ASSETS.values():
        assert (WEB_ROOT / found.path).is_file(), found.path
