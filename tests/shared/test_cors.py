"""CORS: preflights answered by the app's OPTIONS function; allowed origins can read responses, others cannot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from shared.cors import CorsSettings
from tests.builders import AUTH_HEADERS
from tests.relay_configs import CHAT_URL, chat_body, chat_config, error_of

PAGE = "https://chat.example.com"


def preflight(origin: str, method: str = "POST", headers: str = "authorization, content-type") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


@pytest.fixture
def relay(start_relay: Callable[..., ThreadedServer], azure: Any) -> str:
    return start_relay(chat_config(azure.url, cors={"allowed_origins": [PAGE], "max_age_seconds": 300})).url


def test_an_allowed_preflight_gets_its_grants(relay: str) -> None:
    sdk_headers = "authorization, content-type, x-stainless-os, x-stainless-retry-count"
    response = httpx.options(f"{relay}{CHAT_URL}", headers=preflight(PAGE, headers=sdk_headers))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PAGE
    assert response.headers["access-control-allow-methods"] == "GET, POST, DELETE"
    assert response.headers["access-control-allow-headers"] == sdk_headers
    assert response.headers["access-control-max-age"] == "300"
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        (preflight("https://evil.example"), "origin"),
        (preflight(PAGE, method="PUT"), "method"),
        (preflight(PAGE, headers="authorization, x-forwarded-for"), "x-forwarded-for"),
    ],
)
def test_a_refused_preflight_is_403_without_grants(relay: str, headers: dict[str, str], refused: str) -> None:
    response = httpx.options(f"{relay}/api/v1/models", headers=headers)
    assert refused in error_of(response, 403)["message"]
    assert "access-control-allow-origin" not in response.headers


def test_every_route_has_a_preflight(relay: str) -> None:
    for path in ("/api/v1/models", "/api/auth/browser-token", "/api/health", "/api/anything/else"):
        assert httpx.options(f"{relay}{path}", headers=preflight(PAGE)).status_code == 204


def test_a_page_may_resume_and_cancel_and_read_the_stream_id(relay: str) -> None:
    resume = preflight(PAGE, method="GET", headers="authorization, last-event-id")
    assert httpx.options(f"{relay}/api/v1/streams/x", headers=resume).status_code == 204
    opt_in = preflight(PAGE, headers="authorization, content-type, x-relay-resumable")
    assert httpx.options(f"{relay}{CHAT_URL}", headers=opt_in).status_code == 204
    assert httpx.options(f"{relay}/api/v1/streams/x", headers=preflight(PAGE, method="DELETE")).status_code == 204
    response = httpx.get(f"{relay}/api/v1/models", headers={"Origin": PAGE})
    assert "x-relay-stream-id" in response.headers["access-control-expose-headers"].split(", ")


def test_options_without_a_preflight_lists_the_methods(relay: str) -> None:
    response = httpx.options(f"{relay}{CHAT_URL}")
    assert (response.status_code, response.headers["allow"]) == (204, "GET, POST, DELETE, OPTIONS")


def test_unknown_paths_are_still_404_not_405(relay: str) -> None:
    assert httpx.post(f"{relay}/api/v1/completions", json={}).status_code == 404


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/api/nowhere", 404), ("GET", CHAT_URL, 405)])
def test_route_errors_are_readable_by_an_allowed_page(relay: str, method: str, path: str, status: int) -> None:
    response = httpx.request(method, f"{relay}{path}", headers={"Origin": PAGE})
    assert response.status_code == status and response.json()["error"]["message"]
    assert response.headers["access-control-allow-origin"] == PAGE


def test_an_allowed_page_can_read_streams_and_errors(relay: str, azure: Any) -> None:
    body = chat_body(stream=True)
    streamed = httpx.post(f"{relay}{CHAT_URL}", json=body, headers={**AUTH_HEADERS, "Origin": PAGE})
    refused = httpx.post(f"{relay}{CHAT_URL}", json=body, headers={"Origin": PAGE})
    for response in (streamed, refused):
        assert response.headers["access-control-allow-origin"] == PAGE
        assert "x-relay-backend" in response.headers["access-control-expose-headers"]
        assert "retry-after" in response.headers["access-control-expose-headers"]
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert refused.status_code == 401


def test_another_origin_gets_no_cors_headers(relay: str) -> None:
    response = httpx.get(f"{relay}/api/v1/models", headers={**AUTH_HEADERS, "Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_without_cors_configuration_every_preflight_is_refused(relay_url: str) -> None:
    assert httpx.options(f"{relay_url}{CHAT_URL}", headers=preflight(PAGE)).status_code == 403


def test_wildcard_origins_and_credentials(start_relay: Callable[..., ThreadedServer], azure: Any) -> None:
    open_relay = start_relay(chat_config(azure.url, cors={"allowed_origins": ["*"]})).url
    response = httpx.options(f"{open_relay}{CHAT_URL}", headers=preflight("https://anyone.example"))
    assert response.headers["access-control-allow-origin"] == "*"
    cookies = start_relay(chat_config(azure.url, cors={"allowed_origins": [PAGE], "allow_credentials": True})).url
    response = httpx.options(f"{cookies}{CHAT_URL}", headers=preflight(PAGE))
    assert response.headers["access-control-allow-origin"] == PAGE
    assert response.headers["access-control-allow-credentials"] == "true"


def test_wildcard_origins_cannot_carry_credentials() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        CorsSettings(allowed_origins=["*"], allow_credentials=True)


def test_a_refused_origin_is_named_in_full(relay: str) -> None:
    """The relay's own messages are not scrubbed: the client sees exactly which origin was refused."""
    response = httpx.options(f"{relay}{CHAT_URL}", headers=preflight("https://evil.example"))
    assert error_of(response, 403)["message"] == "CORS: origin 'https://evil.example' is not allowed"


def test_a_page_may_send_trace_context(relay: str) -> None:
    response = httpx.options(
        f"{relay}{CHAT_URL}", headers=preflight(PAGE, headers="authorization, traceparent, tracestate")
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == "authorization, traceparent, tracestate"


def test_an_allowed_page_can_read_server_timing(relay: str, azure: Any) -> None:
    response = httpx.post(f"{relay}{CHAT_URL}", json=chat_body(stream=True), headers={**AUTH_HEADERS, "Origin": PAGE})
    assert "server-timing" in response.headers["access-control-expose-headers"].split(", ")
    assert response.headers["timing-allow-origin"] == PAGE
    assert response.headers["server-timing"].startswith("relay;dur=")


def test_another_origin_gets_no_timing_grant(relay: str) -> None:
    response = httpx.get(f"{relay}/api/v1/models", headers={**AUTH_HEADERS, "Origin": "https://evil.example"})
    assert "timing-allow-origin" not in response.headers
