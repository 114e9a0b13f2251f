"""Chat routes and minting read JSON only: any other Content-Type is 415, so no cross-site form can POST."""

from __future__ import annotations

import json

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from tests.shared.test_http_api import assert_openai_error

CHAT_BODIES = {
    "/api/v1/chat/completions": {"model": "azure", "messages": [{"role": "user", "content": "hi"}]},
    "/api/chat": {"model": "azure", "prompt": "hi"},
}
ROUTES = [*sorted(CHAT_BODIES), "/api/auth/browser-token"]
JSON_TYPES = ["application/json", "Application/JSON; charset=UTF-8", "application/json ;x=y"]


def post(http: httpx.Client, url: str, content_type: str | None) -> httpx.Response:
    body = json.dumps(CHAT_BODIES.get(url, {})).encode()
    headers = {} if content_type is None else {"content-type": content_type}
    return http.post(url, content=body, headers=headers)


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"],
)
def test_anything_but_json_is_415(http: httpx.Client, url: str, content_type: str | None) -> None:
    error = assert_openai_error(post(http, url, content_type), 415)
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in str(error["message"])


@pytest.mark.parametrize("url", sorted(CHAT_BODIES))
@pytest.mark.parametrize("content_type", JSON_TYPES)
def test_json_with_parameters_in_any_case_is_accepted(
    http: httpx.Client, azure: AzureOpenAIEmulator, url: str, content_type: str
) -> None:
    assert post(http, url, content_type).status_code == 200
