"""A relay that refuses its configuration: on Azure every function still indexes and answers 503.

On Azure (``WEBSITE_INSTANCE_ID`` set) an exception at import leaves the app
with zero functions and the reason in the host's log, where few operators
look. There the app must load anyway: every route answers 503
``relay_misconfigured`` naming the fields at fault, and the problem is logged
once at error level. Locally the import still stops with the message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.local_host import APP_ROOT, build_asgi_app, describe_routes, import_function_app
from devtools.threaded_server import ThreadedServer
from shared.access_config import AZURE_MARKER
from shared.errors import ConfigError
from tests.builders import patched_environ
from tests.secret_guard import ScanResponses, register_secret

INLINE_SECRET = register_secret("inline-upstream-key-4b3a2c1d", "INLINE_SECRET")
SETTING_SECRET = register_secret("bedrock-setting-secret-7e6f5a", "SETTING_SECRET")
BAD_CONFIG: dict[str, Any] = {
    "backends": [
        {
            "name": "east",
            "provider": "azure_openai",
            "endpoint": "http://127.0.0.1:9",
            "deployment": "gpt",
            "api_version": "2024-10-21",
            "api_key": INLINE_SECRET,
        },
        {
            "name": "west",
            "provider": "azure_openai",
            "endpoint": "ftp:nowhere",
            "deployment": "gpt",
            "api_version": "2024-10-21",
            "api_key_setting": "WEST_KEY",
        },
    ],
    "models": {"azure": ["east", "west"]},
}
FIELDS = ("backends[0]", "backends[1].endpoint")
# A setting the broken configuration never reads, holding a secret that must not leak either.
ENVIRON = {AZURE_MARKER: "instance-0", "RELAY_CONFIG": json.dumps(BAD_CONFIG), "WEST_KEY": SETTING_SECRET}
CHAT = {"model": "azure", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture(scope="module")
def refusing_app() -> Iterator[tuple[str, set[str], list[logging.LogRecord]]]:
    """The real app imported on "Azure" with a configuration it refuses; error records seen at import."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        with patched_environ(ENVIRON):
            app = build_asgi_app(import_function_app(APP_ROOT / "function_app.py"))
        with ThreadedServer(ScanResponses(app)) as server:
            yield server.url, {line.split()[-1] for line in describe_routes(app)}, records
    finally:
        logging.getLogger().removeHandler(handler)


def requests(url: str) -> dict[str, httpx.Response]:
    """One request per function but the demo page, keyed by its registered route."""
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": "Bearer rk-anything"}) as http:
        return {
            "/api/v1/chat/completions": http.post("/api/v1/chat/completions", json=CHAT),
            "/api/openai/deployments/{deployment}/chat/completions": http.post(
                "/api/openai/deployments/azure/chat/completions", json=CHAT
            ),
            "/api/openai/v1/chat/completions": http.post("/api/openai/v1/chat/completions", json=CHAT),
            "/api/v1/responses": http.post("/api/v1/responses", json={"model": "azure", "input": "Hi"}),
            "/api/openai/v1/responses": http.post("/api/openai/v1/responses", json={"model": "azure", "input": "Hi"}),
            "/api/openai/responses": http.post("/api/openai/responses", json={"model": "azure", "input": "Hi"}),
            "/api/chat": http.post("/api/chat", json={"model": "azure", "prompt": "Hi"}),
            "/api/v1/streams/{stream}": http.delete("/api/v1/streams/" + "s" * 32),
            "/api/v1/models": http.get("/api/v1/models"),
            "/api/v1/models/{model}": http.get("/api/v1/models/azure"),
            "/api/auth/browser-token": http.post("/api/auth/browser-token", json={}),
            "/api/{path:path}": http.options("/api/v1/chat/completions", headers=preflight),
            "/api/openapi.json": http.get("/api/openapi.json"),
            "/api/health": http.get("/api/health"),
        }


def test_every_function_is_indexed(refusing_app: tuple[str, set[str], list[logging.LogRecord]]) -> None:
    url, routes, _ = refusing_app
    assert routes == {*requests(url), "/api/ui", "/api/ui/{file}"}


def test_an_unknown_route_answers_503_too(refusing_app: tuple[str, set[str], list[logging.LogRecord]]) -> None:
    response = httpx.get(f"{refusing_app[0]}/api/nowhere", timeout=30)
    assert response.status_code == 503 and response.json()["error"]["code"] == "relay_misconfigured"


@pytest.mark.parametrize(
    "route",
    [
        "/api/v1/chat/completions",
        "/api/openai/deployments/{deployment}/chat/completions",
        "/api/openai/v1/chat/completions",
        "/api/chat",
        "/api/v1/streams/{stream}",
        "/api/v1/models",
        "/api/v1/models/{model}",
        "/api/auth/browser-token",
        "/api/{path:path}",
        "/api/openapi.json",
        "/api/health",
    ],
)
def test_every_route_answers_503_naming_the_fields(
    refusing_app: tuple[str, set[str], list[logging.LogRecord]], route: str
) -> None:
    response = requests(refusing_app[0])[route]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    error = response.json()["error"]
    assert (error["code"], error["type"], error["retryable"]) == ("relay_misconfigured", "api_error", False)
    assert all(field in error["message"] for field in FIELDS)
    assert "WEST_KEY" not in response.text and "ftp:nowhere" not in response.text


def test_the_demo_page_is_still_served(refusing_app: tuple[str, set[str], list[logging.LogRecord]]) -> None:
    """Static files: the page loads, and its first call to the API shows the 503."""
    url = refusing_app[0]
    assert httpx.get(f"{url}/api/ui").status_code == 200
    assert httpx.get(f"{url}/api/ui/demo.js").status_code == 200


def test_the_refusal_is_logged_once_at_error_level(
    refusing_app: tuple[str, set[str], list[logging.LogRecord]],
) -> None:
    url, _, records = refusing_app
    requests(url)
    assert len(records) == 1
    message = records[0].getMessage()
    assert "relay_misconfigured" in message and all(field in message for field in FIELDS)


def test_missing_app_settings_are_named_too() -> None:
    config = {**BAD_CONFIG, "backends": [{**BAD_CONFIG["backends"][1], "endpoint": "http://127.0.0.1:9"}]}
    config["models"] = {"azure": ["west"]}
    with patched_environ({AZURE_MARKER: "instance-0", "RELAY_CONFIG": json.dumps(config)}):
        app = build_asgi_app(import_function_app(APP_ROOT / "function_app.py"))
    with ThreadedServer(ScanResponses(app)) as server:
        error = httpx.get(f"{server.url}/api/health").json()["error"]
    assert error["code"] == "relay_misconfigured"
    assert "backends[0].api_key_setting" in error["message"]


def test_locally_the_import_still_stops_with_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AZURE_MARKER, raising=False)
    with patched_environ({"RELAY_CONFIG": json.dumps(BAD_CONFIG)}), pytest.raises(ConfigError, match=r"backends\[0\]"):
        import_function_app(APP_ROOT / "function_app.py")


def test_a_start_up_failure_that_is_not_a_config_error_also_keeps_the_functions(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # An SDK client that cannot be built, say: on Azure that too would otherwise leave zero functions.
    from shared.application import Application
    from shared.misconfigured import Misconfigured, application_or_refusal

    def broken(environ: Any) -> Application:
        raise RuntimeError("credential chain failed for secret-looking-value")

    monkeypatch.setattr(Application, "from_environment", staticmethod(broken))
    with caplog.at_level(logging.ERROR, logger="shared.misconfigured"):
        refused = application_or_refusal({AZURE_MARKER: "instance-1"})
    assert isinstance(refused, Misconfigured)
    body = json.loads(refused.response().body)
    assert refused.response().status_code == 503 and body["error"]["code"] == "relay_misconfigured"
    assert "RuntimeError" in body["error"]["message"] and "secret-looking-value" not in body["error"]["message"]
    assert len([record for record in caplog.records if record.levelno >= logging.ERROR]) == 1
    with pytest.raises(RuntimeError):
        application_or_refusal({})
