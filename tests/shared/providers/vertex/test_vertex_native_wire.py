"""Gemini's native API on the wire: the request as Google gets it, posted on aiohttp, through a proxy if set."""

from __future__ import annotations

import json

import pytest

from shared.chat_request import parse_chat_request
from shared.events import Finish, TextDelta
from shared.providers.vertex.native_api import NativeApi
from shared.providers.vertex.settings import VertexSettings
from tests.shared.providers.raw_upstream import reply, upstream

pytestmark = pytest.mark.anyio

GEMINI_SSE = b'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}]}\r\n\r\n'
CHAT = b'{"model": "m", "stream": true, "messages": [{"role": "user", "content": "h\\u00e9llo \\ud83d\\ude00"}]}'


def settings(endpoint: str) -> VertexSettings:
    return VertexSettings(
        name="g",
        provider="vertex",
        project="p",
        location="us-central1",
        model="gemini-2.0-flash-001",
        api="native",
        endpoint_url=endpoint,
    )


async def open_and_read(api: NativeApi) -> list[object]:
    stream = await api.send(api.prepare(parse_chat_request(CHAT)), "tok")
    return [event async for event in stream.events]


async def test_the_request_carries_the_token_and_utf8_json() -> None:
    async with upstream(reply(200, GEMINI_SSE, b"text/event-stream")) as server:
        api = NativeApi(settings(server.url))
        try:
            events = await open_and_read(api)
        finally:
            await api.aclose()
    assert events[0] == TextDelta("hi") and isinstance(events[-1], Finish)
    seen = server.seen[0]
    assert seen.line.startswith("POST /v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash")
    assert seen.headers["authorization"] == "Bearer tok"
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    assert "héllo 😀".encode() in seen.body  # UTF-8, not \\u escapes
    assert json.loads(seen.body)["contents"][0]["parts"][0]["text"] == "héllo 😀"


async def test_an_environment_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy, not the (unresolvable) endpoint, receives the request, in a proxy's absolute form."""
    async with upstream(reply(200, GEMINI_SSE, b"text/event-stream")) as proxy:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        api = NativeApi(settings("http://vertex.invalid"))
        try:
            events = await open_and_read(api)
        finally:
            await api.aclose()
    assert events[0] == TextDelta("hi")
    assert proxy.seen[0].line.startswith("POST http://vertex.invalid/v1/projects/p/")
