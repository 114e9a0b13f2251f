"""Bad input gets a clear 4xx in OpenAI's error shape, never a 500 or a secret."""

from __future__ import annotations

import math

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY

URL = "/api/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "hi"}]


def assert_openai_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert AZURE_TEST_KEY not in response.text
    assert "Traceback" not in response.text
    return error


def test_malformed_json(http: httpx.Client) -> None:
    response = http.post(URL, content=b'{"model": "azure", "messages": [', headers={"content-type": "application/json"})
    assert "not valid JSON" in assert_openai_error(response, 400)["message"]


def test_invalid_utf8(http: httpx.Client) -> None:
    response = http.post(URL, content=b'{"model": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert_openai_error(response, 400)


def test_body_must_be_an_object(http: httpx.Client) -> None:
    response = http.post(URL, json=["model", "azure"])
    assert "JSON object" in assert_openai_error(response, 400)["message"]


def test_missing_messages(http: httpx.Client) -> None:
    error = assert_openai_error(http.post(URL, json={"model": "azure"}), 400)
    assert error["param"] == "messages"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": 42, "messages": MESSAGES}, "model"),
        ({"model": "azure", "messages": "hi"}, "messages"),
        ({"model": "azure", "messages": []}, "messages"),
        ({"model": "azure", "messages": MESSAGES, "temperature": "hot"}, "temperature"),
        ({"model": "azure", "messages": MESSAGES, "temperature": 7}, "temperature"),
        ({"model": "azure", "messages": MESSAGES, "stream": "yes"}, "stream"),
        ({"model": "azure", "messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"model": "azure", "messages": MESSAGES, "n": 3}, "n"),
        ({"model": "azure", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "azure", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "azure", "messages": MESSAGES, "frobnicate": True}, "frobnicate"),
    ],
)
def test_wrong_types_name_the_parameter(http: httpx.Client, body: dict[str, object], param: str) -> None:
    error = assert_openai_error(http.post(URL, json=body), 400)
    assert error["param"] == param
    assert str(error["message"]).startswith(param)


def test_tool_message_without_id(http: httpx.Client) -> None:
    body = {"model": "azure", "messages": [{"role": "tool", "content": "42"}]}
    assert "tool_call_id" in str(assert_openai_error(http.post(URL, json=body), 400)["message"])


def test_body_over_one_mebibyte_is_413(http: httpx.Client) -> None:
    huge = "x" * (1024 * 1024 + 1)
    response = http.post(URL, json={"model": "azure", "messages": [{"role": "user", "content": huge}]})
    assert assert_openai_error(response, 413)["code"] == "payload_too_large"


def test_chunked_body_over_the_limit_is_413(http: httpx.Client) -> None:
    def body():
        for _ in range(20):
            yield b"x" * 65536

    response = http.post(URL, content=body(), headers={"content-type": "application/json"})
    assert assert_openai_error(response, 413)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", URL, "POST"),
        ("DELETE", URL, "POST"),
        ("PUT", "/api/openai/deployments/azure/chat/completions", "POST"),
        ("POST", "/api/v1/models", "GET"),
        ("PATCH", "/api/V1/Models/azure/", "GET"),
        ("POST", "/api/health", "GET"),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(http: httpx.Client, method: str, path: str, allow: str) -> None:
    response = http.request(method, path)
    error = assert_openai_error(response, 405)
    assert response.headers["allow"] == allow
    assert error["code"] == "method_not_allowed" and allow in str(error["message"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/completions"),
        ("GET", "/api/v1/responses/x/y"),
        ("DELETE", "/api/"),
        ("GET", "/api"),
        ("GET", "/api/openai/deployments/azure/embeddings"),
    ],
)
def test_unknown_route_is_a_json_404_naming_the_routes(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path, json={})
    error = assert_openai_error(response, 404)
    assert error["code"] == "not_found"
    message = str(error["message"])
    for served in ("POST /api/v1/chat/completions", "GET /api/v1/models", "POST /api/openai/v1/chat/completions"):
        assert served in message
    assert "{*path}" not in message


@pytest.mark.parametrize("retry_after_ms", [100, 1500, 2400, 2500])
def test_retry_after_header_rounds_up_like_the_body(
    fresh_relay_url: str, azure: AzureOpenAIEmulator, retry_after_ms: int
) -> None:
    prompt = inline_prompt(status=429, retry_after_ms=retry_after_ms)
    body = {"model": "azure", "messages": [{"role": "user", "content": prompt}]}
    response = httpx.post(f"{fresh_relay_url}{URL}", json=body, headers=AUTH_HEADERS, timeout=30)
    seconds = float(str(assert_openai_error(response, 429)["retry_after"]))
    assert seconds > 0
    assert response.headers["retry-after"] == str(max(1, math.ceil(seconds)))
