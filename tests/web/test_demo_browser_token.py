"""The demo page in browser-token mode: it signs in with a short-lived token, never a key.

The page asks its backend (devtools/example_backend.py, mounted in front of the
relay on the same origin, as ``make dev`` does) for a token; the backend mints
one at the relay with a relay key only it holds. This relay admits no anonymous
callers, so the page streams only because the token works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Request

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import DEFAULT_TEXT
from devtools.example_backend import TOKEN_PATH, ExampleBackend
from devtools.local_host import APP_ROOT, build_asgi_app, function_app_of, import_app_module, route_prefix
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, TEST_AUTH, RelayServer, patched_environ, single_azure_config
from tests.secret_guard import ScanResponses, register_secret
from tests.web.demo_driver import LAST_REPLY, DemoPage, storage_dump

TOKEN_SECRET = register_secret("browser-token-secret-for-the-demo-page-tests", "DEMO_TOKEN_SECRET")


@pytest.fixture
def token_demo_url(azure: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay that requires credentials and mints browser tokens, with the example backend in front."""
    config = {
        **single_azure_config(azure),
        "auth": {**TEST_AUTH, "browser_tokens": {"secret_setting": "DEMO_TOKEN_SECRET", "max_ttl_minutes": 10}},
    }
    environ = {"RELAY_CONFIG": json.dumps(config), "AZURE_TEST_KEY": AZURE_TEST_KEY, "DEMO_TOKEN_SECRET": TOKEN_SECRET}
    with patched_environ(environ):
        module = import_app_module(APP_ROOT / "function_app.py")
    relay = build_asgi_app(function_app_of(module), route_prefix(APP_ROOT / "host.json"))
    backend = ExampleBackend(RELAY_TEST_KEY)
    server = RelayServer(ScanResponses(backend.in_front_of(relay)), module.application).start()
    backend.relay_url = server.url
    try:
        yield server.url
    finally:
        server.stop()


def test_the_page_streams_with_a_browser_token_and_never_holds_the_key(
    page: Page, token_demo_url: str, azure: AzureOpenAIEmulator
) -> None:
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    demo = DemoPage(page, token_demo_url, model=None)
    page.locator("#key-note").wait_for(state="visible")
    assert page.inner_text("#key-note").startswith("This relay needs an API key"), "no anonymous callers here"
    demo.open_settings()
    page.select_option("#auth-mode", "token")
    page.wait_for_function("() => document.querySelector('#model').value === 'azure'")
    assert page.is_hidden("#key-note") and page.is_disabled("#api-key")
    demo.send("hello")
    demo.wait_for("done")
    assert demo.answer() == DEFAULT_TEXT
    chat = next(r for r in requests if r.url.endswith("/api/chat"))
    bearer = chat.headers["authorization"]
    assert bearer.startswith("Bearer rbt1."), "the page signs in with a browser token"
    minted = next(r for r in requests if r.url.endswith(TOKEN_PATH))
    response = minted.response()
    assert response is not None and response.json()["token"] == bearer.removeprefix("Bearer ")
    assert all(RELAY_TEST_KEY not in json.dumps(r.headers) for r in requests)
    assert RELAY_TEST_KEY not in response.text()
    assert azure.recorder.records[-1].auth == "api-key", "the upstream sees the relay's own key"
    assert "rbt1." not in storage_dump(page), "the token is kept in memory only"
    demo.send("again")
    demo.wait_for("done")
    assert sum(r.url.endswith(TOKEN_PATH) for r in requests) == 1, "a token is reused until it nears expiry"
    demo.shoot("demo-browser-token")
    assert page.get_attribute(LAST_REPLY, "data-outcome") == "done"


def test_a_backend_that_cannot_mint_is_reported_next_to_the_sign_in_field(
    page: Page, token_demo_url: str, azure: AzureOpenAIEmulator
) -> None:
    page.route(f"**{TOKEN_PATH}", lambda route: route.fulfill(status=502, json={"error": {"message": "down"}}))
    demo = DemoPage(page, token_demo_url, model=None)
    demo.open_settings()
    page.select_option("#auth-mode", "token")
    page.wait_for_function("() => document.querySelector('#key-note').textContent.startsWith('Sign-in failed')")
    assert "the page's backend gave no browser token (HTTP 502)" in page.inner_text("#key-note")
